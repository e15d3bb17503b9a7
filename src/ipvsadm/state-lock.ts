// Exclusive access to a state file across processes: `lvsdeck ipvsadm` and `lvsdeck sysctl` read,
// change and rewrite the whole file, so two of them at once would lose one's change. The lock is
// a file next to the state file's real target (TARGET.lock, created with O_EXCL) holding the
// owner's pid and host; a second process waits for it (polling) up to a timeout, then gives up
// with an error naming the holder. A lock whose owner died (same host, no such pid) is broken;
// temporary files left by a writer that died are removed under the lock.
import {closeSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, writeSync} from 'node:fs';
import {hostname} from 'node:os';
import {basename, dirname, join, resolve} from 'node:path';

export class StateLockError extends Error {}

/** Default wait for a held lock; LVSDECK_STATE_LOCK_TIMEOUT_MS overrides it. */
export const STATE_LOCK_TIMEOUT_MS = 10_000;
/** A lock file without a readable owner (its writer died between create and write) counts as stale after this. */
const UNREADABLE_LOCK_STALE_MS = 5_000;
const MAX_SYMLINK_HOPS = 40;

/**
 * The file a path finally names: symlinks followed (also a dangling one, whose target is then
 * created), so a write replaces the target and leaves the link in place.
 */
export function resolveStateTarget(path: string): string {
  let p = resolve(path);
  for (let hop = 0; hop < MAX_SYMLINK_HOPS; hop++) {
    let isLink: boolean;
    try {
      isLink = lstatSync(p).isSymbolicLink();
    } catch {
      return p; // missing: this is the file to create
    }
    if (!isLink) return p;
    p = resolve(dirname(p), readlinkSync(p));
  }
  throw new StateLockError(`${path}: too many levels of symbolic links`);
}

interface LockOwner {
  pid: number;
  host: string;
}

function readOwner(lockPath: string): LockOwner | null {
  try {
    const m = /^(\d+) (\S+)\n$/.exec(readFileSync(lockPath, 'utf8'));
    return m ? {pid: Number(m[1]), host: m[2]!} : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const ownerText = (): string => `${process.pid} ${hostname()}\n`;

function ageMs(path: string): number {
  try {
    return Date.now() - lstatSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Is the lock at lockPath left by a dead process (on this host), or unreadable for too long? */
function isStale(lockPath: string, owner: LockOwner | null): boolean {
  if (!owner) return ageMs(lockPath) > UNREADABLE_LOCK_STALE_MS;
  return owner.host === hostname() && !alive(owner.pid);
}

/**
 * Break a stale lock without racing another breaker: move it aside atomically, and if what was
 * moved is not the stale lock seen (someone took the lock meanwhile), put that one back.
 */
function breakStale(lockPath: string, seen: string): void {
  const aside = `${lockPath}.stale-${process.pid}`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return; // gone already: someone else broke it
  }
  let moved = '';
  try {
    moved = readFileSync(aside, 'utf8');
  } catch {
    moved = '';
  }
  if (moved !== seen) {
    try {
      linkSync(aside, lockPath);
    } catch {
      // a newer lock exists now; the one moved aside belonged to a process that lost the race
    }
  }
  rmSync(aside, {force: true});
}

function tryAcquire(lockPath: string): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StateLockError(`cannot create lock file ${lockPath}: ${(err as Error).message}`);
  }
  try {
    writeSync(fd, ownerText());
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Remove temporary files of this state file whose writer (same host) is no longer running. */
function removeDeadWritersTemps(target: string): void {
  const dir = dirname(target), base = basename(target);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const re = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.tmp-(\\d+)-`);
  for (const n of names) {
    const m = re.exec(n);
    if (m && !alive(Number(m[1]))) rmSync(join(dir, n), {force: true});
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface StateLockOptions {
  timeoutMs?: number;
}

export function lockTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.LVSDECK_STATE_LOCK_TIMEOUT_MS;
  const n = v === undefined ? NaN : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : STATE_LOCK_TIMEOUT_MS;
}

/**
 * Run fn holding the state file's lock. The lock is released when fn settles, and on SIGINT,
 * SIGTERM or SIGHUP during fn (then the process exits with 128 + signal number).
 */
export async function withStateLock<T>(statePath: string, fn: (target: string) => Promise<T>, o: StateLockOptions = {}): Promise<T> {
  const target = resolveStateTarget(statePath);
  const lockPath = `${target}.lock`;
  mkdirSync(dirname(target), {recursive: true});
  const timeoutMs = o.timeoutMs ?? lockTimeoutFromEnv();
  const deadline = Date.now() + timeoutMs;
  let wait = 5;
  while (!tryAcquire(lockPath)) {
    let seen = '';
    try {
      seen = readFileSync(lockPath, 'utf8');
    } catch {
      continue; // released between our attempt and the read: try again at once
    }
    const owner = readOwner(lockPath);
    if (isStale(lockPath, owner)) {
      breakStale(lockPath, seen);
      continue;
    }
    if (Date.now() >= deadline) {
      const who = owner ? `process ${owner.pid} on ${owner.host}` : 'another process';
      throw new StateLockError(`${statePath} is locked by ${who} (lock file ${lockPath}); gave up after ${timeoutMs} ms` +
        ' (LVSDECK_STATE_LOCK_TIMEOUT_MS sets the wait)');
    }
    await sleep(Math.min(wait, Math.max(1, deadline - Date.now())));
    wait = Math.min(100, wait * 2);
  }
  const mine = ownerText();
  const release = () => {
    if (readOwner(lockPath) && readFileSync(lockPath, 'utf8') === mine) rmSync(lockPath, {force: true});
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (sig: NodeJS.Signals) => {
    release();
    process.exit(128 + ({SIGHUP: 1, SIGINT: 2, SIGTERM: 15} as Record<string, number>)[sig]!);
  };
  for (const s of signals) process.on(s, onSignal);
  try {
    removeDeadWritersTemps(target);
    return await fn(target);
  } finally {
    for (const s of signals) process.off(s, onSignal);
    release();
  }
}
