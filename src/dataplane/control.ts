// The running director's control socket: `lvsdeck ipvsadm --director ARGS` and
// `lvsdeck sysctl --director ...` run against the live engine (what the command bar does in the
// UI) instead of a state file. One JSON request per connection, bounded in size; root only (0600).
import {chmodSync, mkdirSync, rmSync} from 'node:fs';
import {createConnection, createServer, type Server} from 'node:net';
import {dirname} from 'node:path';
import type {Engine} from '../engine/engine.js';
import {runIpvsadm} from '../ipvsadm/exec.js';
import {runSysctl} from '../ipvsadm/sysctl.js';

export const CONTROL_SOCKET = process.env.LVSDECK_CONTROL_SOCKET ?? '/run/lvsdeck/director.sock';
const MAX_REQUEST = 1 << 20;

export interface ControlRequest {cmd: 'ipvsadm' | 'sysctl'; args: string[]; stdin?: string}
export interface ControlReply {code: number; stdout: string; stderr: string}

function handle(engine: Engine, req: ControlRequest): ControlReply {
  if (!Array.isArray(req.args) || !req.args.every((a) => typeof a === 'string')) {
    return {code: 2, stdout: '', stderr: 'lvsdeck: bad control request\n'};
  }
  if (req.cmd === 'ipvsadm') {
    const r = runIpvsadm(engine, req.args, {stdin: typeof req.stdin === 'string' ? req.stdin : ''});
    return {code: r.code, stdout: r.stdout, stderr: r.stderr};
  }
  if (req.cmd === 'sysctl') {
    const r = runSysctl(engine, req.args, {readFile: () => { throw new Error('-p FILE is not available against a running director'); }});
    return {code: r.code, stdout: r.stdout, stderr: r.stderr};
  }
  return {code: 2, stdout: '', stderr: `lvsdeck: unknown control command\n`};
}

/** Serve the socket; a stale socket file (a crashed director's) is replaced. */
export function serveControl(engine: Engine, path = CONTROL_SOCKET): Server {
  mkdirSync(dirname(path), {recursive: true, mode: 0o700});
  rmSync(path, {force: true});
  const server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST) {
        sock.end(JSON.stringify({code: 2, stdout: '', stderr: 'lvsdeck: control request too large\n'}) + '\n');
        return;
      }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let reply: ControlReply;
      try {
        reply = handle(engine, JSON.parse(buf.slice(0, nl)) as ControlRequest);
      } catch (e) {
        reply = {code: 2, stdout: '', stderr: `lvsdeck: ${(e as Error).message}\n`};
      }
      sock.end(JSON.stringify(reply) + '\n');
    });
    sock.on('error', () => sock.destroy());
  });
  server.listen(path, () => chmodSync(path, 0o600));
  server.on('close', () => rmSync(path, {force: true}));
  return server;
}

/** Send one request to a running director. */
export function askDirector(req: ControlRequest, path = CONTROL_SOCKET, timeoutMs = 10_000): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no answer from the director on ${path}`)); }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (c: string) => { buf += c; });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf) as ControlReply);
      } catch {
        reject(new Error(`garbled answer from the director on ${path}`));
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
        ? `no director is running (no control socket at ${path}; start one with lvsdeck --dataplane tun)`
        : e.code === 'EACCES' ? `the director's control socket ${path} is root's: run with sudo` : e.message));
    });
  });
}

/** `--director` in a CLI's arguments: ask the running director instead of using a state file. */
export async function runAgainstDirector(cmd: 'ipvsadm' | 'sysctl', args: string[], stdin = ''): Promise<number> {
  try {
    const r = await askDirector({cmd, args, stdin});
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.code;
  } catch (e) {
    process.stderr.write(`lvsdeck: ${(e as Error).message}\n`);
    return 1;
  }
}
