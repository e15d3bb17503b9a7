// `lvsdeck ipvsadm --kernel ...` and `lvsdeck sysctl --kernel ...`: the same command lines on the
// running kernel. ipvsadm's arguments go to the host's ipvsadm (its listings are the kernel's own);
// sysctl reads and writes /proc/sys/net/ipv4/vs with our listing (every tunable we know, with
// "not available on this kernel" for those this kernel lacks) and the kernel's own errors.
import {TUNABLES} from '../engine/tunables.js';
import {strerror} from '../ipvsadm/errors.js';
import {CMD, parseIpvsadm} from '../ipvsadm/parse.js';
import {SYSCTL_PREFIX} from '../ipvsadm/sysctl.js';
import {KernelHost, KernelUnavailable} from './host.js';

export interface CliOutput {
  stdout: string;
  stderr: string;
  code: number;
}

const READS = new Set<number>([CMD.LIST, CMD.SAVE]);

/** ipvsadm on the kernel: refused clearly without IPVS, without ipvsadm, or (for a change) without root. */
export function kernelIpvsadm(args: readonly string[], host = new KernelHost(), stdin?: string): CliOutput {
  try {
    host.checkIpvs();
    host.ipvsadmPath();
    let isRead = false;
    try {
      isRead = READS.has(parseIpvsadm(args).cmd);
    } catch {
      isRead = true;   // -h, -v or a mistake: ipvsadm prints its own text
    }
    if (!isRead) host.checkRoot(`ipvsadm ${args.join(' ')}`);
    const r = host.ipvsadm(args, stdin);
    return {stdout: r.stdout, stderr: r.stderr, code: r.code};
  } catch (err) {
    if (err instanceof KernelUnavailable) return {stdout: '', stderr: `lvsdeck: ${err.message}\n`, code: 2};
    throw err;
  }
}

const NOT_AVAILABLE = 'not available on this kernel';

/** sysctl -a / NAME... / -w NAME=VALUE... for net.ipv4.vs.* on the kernel. */
export function kernelSysctl(args: readonly string[], host = new KernelHost()): CliOutput {
  try {
    host.checkIpvs();
  } catch (err) {
    return {stdout: '', stderr: `lvsdeck: ${(err as Error).message}\n`, code: 2};
  }
  const present = new Set(host.sysctlNames());
  const line = (name: string) => `${SYSCTL_PREFIX}${name} = ${present.has(name) ? host.readSysctl(name) ?? NOT_AVAILABLE : NOT_AVAILABLE}\n`;
  const short = (k: string) => k.replace(/^net[./]ipv4[./]vs[./]/, '');
  let stdout = '', stderr = '', code = 0;
  const rest = args.filter((a) => a !== '-a' && a !== '--all');
  if (rest.length === 0) {
    const names = new Set([...TUNABLES.map((d) => d.name), ...present]);
    return {stdout: [...names].sort().map(line).join(''), stderr: '', code: 0};
  }
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const write = a === '-w' ? rest[++i] : a.includes('=') ? a : undefined;
    if (write === undefined) {
      const name = short(a);
      if (!/^[a-z0-9_]+$/.test(name) || !present.has(name)) {
        stderr += `sysctl: cannot stat /proc/sys/net/ipv4/vs/${name}: ${strerror('ENOENT')}\n`;
        code = 255;
      } else stdout += line(name);
      continue;
    }
    const eq = write.indexOf('=');
    const name = short(write.slice(0, eq).trim()), value = write.slice(eq + 1).trim();
    if (eq < 0 || !/^[a-z0-9_]+$/.test(name) || !present.has(name)) {
      stderr += `sysctl: cannot stat /proc/sys/net/ipv4/vs/${name}: ${strerror('ENOENT')} (${NOT_AVAILABLE}?)\n`;
      code = 255;
      continue;
    }
    try {
      host.checkRoot(`writing ${SYSCTL_PREFIX}${name}`);
      host.writeSysctl(name, value);
      stdout += `${SYSCTL_PREFIX}${name} = ${value}\n`;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      stderr += e instanceof KernelUnavailable ? `lvsdeck: ${e.message}\n`
        : `sysctl: setting key "${SYSCTL_PREFIX}${name}": ${strerror(e.code ?? 'EINVAL')}\n`;
      code = 255;
    }
  }
  return {stdout, stderr, code};
}

/** Print a CliOutput and return its status. */
export function emit(o: CliOutput): number {
  process.stdout.write(o.stdout);
  process.stderr.write(o.stderr);
  return o.code;
}
