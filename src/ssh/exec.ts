// `ssh HOST COMMAND` (exec requests): read-only listings of what the server serves, nothing else:
// the engine's own ipvsadm and sysctl (simulation, data plane) or the host's (kernel IPVS).
//   ipvsadm -L|-l [-n] [-c] [--stats|--rate|--timeout|--daemon|...] | ipvsadm -S [-n]
//   sysctl -a | sysctl [-n] [-N] [-e] net.ipv4.vs.NAME...       (no -w, no NAME=VALUE)
//   who                       the UI sessions: id, user, role, from, since, size
//   audit [N]                 the last N (default 20) audit entries as JSON lines
//   help
// Anything else, and every changing form, is refused with exit status 1: changes are made in the
// UI (`ssh -t`), where roles are checked and every change is audited.
import type {Engine} from '../engine/engine.js';
import {kernelIpvsadm, kernelSysctl} from '../kernel/cli.js';
import type {KernelHost} from '../kernel/host.js';
import {IpvsadmExit} from '../ipvsadm/errors.js';
import {acceptedSchedulers, runIpvsadm} from '../ipvsadm/exec.js';
import {CMD, IpvsadmInfo, OPT, parseIpvsadm, splitWords} from '../ipvsadm/parse.js';
import {runSysctl} from '../ipvsadm/sysctl.js';
import type {AuditEntry} from '../store/actions.js';
import type {Peer} from '../store/session.js';
import {safeJson} from '../util/untrusted-text.js';
import {changeRecord} from './audit-file.js';

/** Where the listings come from. */
export interface Listings {
  /** Entries in the connection table (a connection listing above the limit is refused). */
  connCount(): number;
  /** A listing form of ipvsadm (the changing forms never get here). */
  ipvsadm(args: string[]): ExecResult;
  /** sysctl without a write. */
  sysctl(args: string[]): ExecResult;
}

/** Listings of an engine in this process: lvsdeck's ipvsadm and sysctl. */
export function engineListings(engine: Engine): Listings {
  return {
    connCount: () => engine.conns.count,
    ipvsadm: (args) => runIpvsadm(engine, args),
    sysctl: (args) => runSysctl(engine, args),
  };
}

/** Listings of the running kernel: the host's ipvsadm, /proc/sys/net/ipv4/vs. */
export function kernelListings(host: KernelHost, connCount: () => number): Listings {
  return {connCount, ipvsadm: (args) => kernelIpvsadm(args, host), sysctl: (args) => kernelSysctl(args, host)};
}

export interface ExecContext {
  listings: Listings;
  peers(): Peer[];
  audit(): readonly AuditEntry[];
  /** Connection listings above this many entries are refused (they would hold the event loop). */
  maxConnListing?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export const EXEC_HELP = `lvsdeck over ssh: without a command (ssh -t) you get the live UI.
Read-only commands:
  ipvsadm -Ln [--stats|--rate|--timeout|--daemon|--thresholds|--persistent-conn]   ipvsadm -Lnc   ipvsadm -Sn
  sysctl -a                sysctl net.ipv4.vs.NAME ...
  who                      the connected UI sessions
  audit [N]                the last N audit entries (JSON lines)
  help
Changes are made in the UI, where your role is checked and every change is audited.
`;

const refuse = (msg: string): ExecResult => ({stdout: '', stderr: `lvsdeck: ${msg}\n`, code: 1});

export function runExec(line: string, ctx: ExecContext): ExecResult {
  let argv: string[];
  try {
    argv = splitWords(line.trim());
  } catch (err) {
    return refuse((err as Error).message);
  }
  const [cmd, ...args] = argv;
  switch (cmd) {
    case undefined: case 'help': case '--help': case '-h':
      return {stdout: EXEC_HELP, stderr: '', code: 0};
    case 'ipvsadm': return ipvsadm(args, ctx);
    case 'sysctl': return sysctl(args, ctx);
    case 'who': {
      const rows = ctx.peers().map((p) =>
        `${String(p.id).padStart(3)}  ${p.user.padEnd(16)} ${p.role.padEnd(8)} ${p.from.padEnd(24)} ${new Date(p.since).toISOString()}  ${p.cols}x${p.rows}`);
      return {stdout: ['ID   USER             ROLE     FROM                     SINCE                     SIZE', ...rows].join('\n') + '\n', stderr: '', code: 0};
    }
    case 'audit': {
      const n = args[0] === undefined ? 20 : Number(args[0]);
      if (!Number.isInteger(n) || n < 1 || n > 1000) return refuse('audit: want N (1..1000)');
      return {stdout: ctx.audit().slice(-n).map((e) => safeJson(changeRecord(e)) + '\n').join(''), stderr: '', code: 0};
    }
    default:
      return refuse(`'${cmd.slice(0, 40)}' is not available over ssh: read-only listings only (try: help)`);
  }
}

function ipvsadm(args: string[], ctx: ExecContext): ExecResult {
  try {
    const pc = parseIpvsadm(args, acceptedSchedulers().filter((n) => n !== 'none'));
    if (pc.cmd !== CMD.LIST && pc.cmd !== CMD.SAVE) {
      return refuse('ssh exec is read-only: ipvsadm -L / -l / -S only; make changes in the UI (ssh -t), where they are audited');
    }
    const max = ctx.maxConnListing ?? 200_000;
    const count = pc.cmd === CMD.LIST && pc.options[OPT.CONNECTION] ? ctx.listings.connCount() : 0;
    if (count > max) return refuse(`the connection table has ${count} entries (more than ${max}); use the Connections view`);
  } catch (err) {
    if (err instanceof IpvsadmInfo) return {stdout: err.stdout, stderr: '', code: 0};
    if (err instanceof IpvsadmExit) return {stdout: err.stdout, stderr: err.stderr, code: err.code};
    throw err;
  }
  const r = ctx.listings.ipvsadm(args);
  return {stdout: r.stdout, stderr: r.stderr, code: r.code};
}

function sysctl(args: string[], ctx: ExecContext): ExecResult {
  for (const a of args) {
    if (a.includes('=') || /^-(w|p|-write|-load|-system)$/.test(a) || /^-[a-zA-Z]*[wp]/.test(a)) {
      return refuse('ssh exec is read-only: sysctl NAME or sysctl -a only; write tunables in the UI (ssh -t)');
    }
  }
  const r = ctx.listings.sysctl(args.length ? args : ['-a']);
  return {stdout: r.stdout, stderr: r.stderr, code: r.code};
}
