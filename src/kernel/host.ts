// The I/O of the kernel backend: /proc and /proc/sys reads and writes, ipvsadm runs, /dev/kmsg.
// Every read is bounded; every failure comes back as a message naming what to do about it.
import {spawnSync} from 'node:child_process';
import {closeSync, constants, existsSync, openSync, readdirSync, readFileSync, readSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';

/** Why the kernel backend cannot start or cannot write: shown to the user as it is. */
export class KernelUnavailable extends Error {}

export const SYSCTL_DIR = '/proc/sys/net/ipv4/vs';
export const IPVSADM_PACKAGE = 'ipvsadm';
/** Output limit of one ipvsadm listing (a director with thousands of services still fits). */
const IPVSADM_MAX_BYTES = 16 << 20;
/** readHead's read() size when it stops at a line count: about 100 rows of /proc/net/ip_vs_conn. */
const HEAD_STEP_BYTES = 16 << 10;

export interface IpvsadmRun {
  code: number;
  stdout: string;
  stderr: string;
}

export class KernelHost {
  private ipvsadmChecked: string | null = null;

  /** `proc`: where /proc is; `searchPath`: where to look for ipvsadm (PATH, then the sbin directories). */
  constructor(readonly proc = '/proc', private readonly searchPath = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`) {}

  /** Refuse clearly when the running kernel has no IPVS (module not loaded or not built). */
  checkIpvs(): void {
    if (!existsSync(join(this.proc, 'net/ip_vs'))) {
      throw new KernelUnavailable(`this kernel has no IPVS (${join(this.proc, 'net/ip_vs')} is missing): ` +
        'load it with `modprobe ip_vs` (as root) or run lvsdeck without --kernel');
    }
  }

  isRoot(): boolean {
    return typeof process.getuid === 'function' && process.getuid() === 0;
  }

  /** Refuse a change unless we are root (the kernel would refuse it with EPERM anyway). */
  checkRoot(what: string): void {
    if (!this.isRoot()) throw new KernelUnavailable(`${what} needs root on a real kernel (run lvsdeck as root)`);
  }

  read(rel: string): string {
    return readFileSync(join(this.proc, rel), 'utf8');
  }

  /**
   * The first `maxBytes` of a /proc file, cut back to the last whole line: a bounded read of a
   * table that may hold a million rows. With `maxLines`, it stops once that many lines are in:
   * the kernel formats every byte it hands out (ip_vs_conn_seq_show), so a page of 40 rows should
   * not cost the text of 1,700.
   */
  readHead(rel: string, maxBytes: number, maxLines = Infinity): {text: string; complete: boolean} {
    const fd = openSync(join(this.proc, rel), 'r');
    try {
      const buf = Buffer.allocUnsafe(maxBytes);
      const step = Number.isFinite(maxLines) ? Math.min(maxBytes, HEAD_STEP_BYTES) : maxBytes;
      let len = 0, lines = 0;
      for (;;) {
        const n = readSync(fd, buf, len, Math.min(step, maxBytes - len), null);
        if (n === 0) return {text: buf.toString('utf8', 0, len), complete: true};
        for (let i = len; i < len + n; i++) if (buf[i] === 10) lines++;
        len += n;
        if (len >= maxBytes || lines >= maxLines) break;
      }
      const cut = buf.lastIndexOf(10, len - 1);
      return {text: buf.toString('utf8', 0, cut + 1), complete: false};
    } finally {
      closeSync(fd);
    }
  }

  /** Names of the tunables this kernel has under /proc/sys/net/ipv4/vs. */
  sysctlNames(): string[] {
    try {
      return readdirSync(join(this.proc, 'sys/net/ipv4/vs')).sort();
    } catch {
      return [];
    }
  }

  readSysctl(name: string): string | null {
    try {
      return this.read(`sys/net/ipv4/vs/${name}`).replace(/\n$/, '');
    } catch {
      return null;
    }
  }

  /** Write a tunable; the kernel's handler decides (EINVAL etc. come back as thrown errors). */
  writeSysctl(name: string, text: string): void {
    writeFileSync(join(this.proc, `sys/net/ipv4/vs/${name}`), `${text}\n`);
  }

  ipvsadmPath(): string {
    if (this.ipvsadmChecked) return this.ipvsadmChecked;
    for (const dir of this.searchPath.split(':')) {
      if (!dir) continue;
      const p = join(dir, 'ipvsadm');
      if (existsSync(p)) return (this.ipvsadmChecked = p);
    }
    throw new KernelUnavailable(`ipvsadm is not installed: install the Debian package '${IPVSADM_PACKAGE}' ` +
      `(apt-get install ${IPVSADM_PACKAGE})`);
  }

  /** Run ipvsadm with these arguments (synchronously: listings are small, changes are one call). */
  ipvsadm(args: readonly string[], stdin?: string): IpvsadmRun {
    const r = spawnSync(this.ipvsadmPath(), args, {encoding: 'utf8', maxBuffer: IPVSADM_MAX_BYTES, input: stdin, timeout: 10_000});
    if (r.error) throw new KernelUnavailable(`ipvsadm ${args.join(' ')}: ${r.error.message}`);
    return {code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr};
  }

  /** ipvsadm that must succeed: its own message otherwise. */
  ipvsadmOk(args: readonly string[]): string {
    const r = this.ipvsadm(args);
    if (r.code !== 0) throw new Error(r.stderr.trim() || `ipvsadm ${args.join(' ')} failed (status ${r.code})`);
    return r.stdout;
  }
}

/** Non-blocking reader of /dev/kmsg: each read returns one record; EAGAIN means "no more for now". */
export class KmsgReader {
  private fd: number | null = null;
  readonly error: string | null = null;
  private readonly buf = Buffer.allocUnsafe(8192);

  constructor(path = '/dev/kmsg') {
    try {
      this.fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      (this as {error: string | null}).error = `cannot read ${path}: ${(err as Error).message}`;
    }
  }

  /** Up to `max` records now available. */
  drain(max: number): string[] {
    const out: string[] = [];
    while (this.fd !== null && out.length < max) {
      try {
        const n = readSync(this.fd, this.buf, 0, this.buf.length, null);
        if (n <= 0) break;
        out.push(this.buf.toString('utf8', 0, n));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') continue;   // records overwritten before we read them: the next read resumes
        break;                            // EAGAIN: nothing more yet
      }
    }
    return out;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
