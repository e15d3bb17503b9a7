// Shared plumbing of `lvsdeck ipvsadm` and `lvsdeck sysctl`: the --state option, loading the
// state file, and writing it back only after a successful, mutating command.
import {BOUNDS, BoundError, readBoundedFile, readBoundedStream} from '../util/bounds.js';
import type {Engine} from '../engine/engine.js';
import {StateError, defaultStatePath, loadStateFile, saveStateFile} from './state.js';
import {StateLockError, withStateLock} from './state-lock.js';

/** Remove `--state FILE` / `--state=FILE` from the arguments; returns the path and the rest. */
export function takeStateOption(args: readonly string[]): {statePath: string; rest: string[]} | {error: string} {
  let statePath: string | null = null;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--state') {
      const v = args[i + 1];
      if (v === undefined || v === '') return {error: 'lvsdeck: --state needs a file name'};
      statePath = v;
      i++;
    } else if (a.startsWith('--state=')) {
      statePath = a.slice('--state='.length);
      if (!statePath) return {error: 'lvsdeck: --state needs a file name'};
    } else {
      rest.push(a);
    }
  }
  return {statePath: statePath ?? defaultStatePath(), rest};
}

/** Load the engine for a CLI invocation; prints the error and returns null on failure. */
export function loadForCli(statePath: string): Engine | null {
  try {
    return loadStateFile(statePath);
  } catch (err) {
    const msg = err instanceof StateError ? err.message : String(err);
    process.stderr.write(`lvsdeck: state file ${msg}\n`);
    return null;
  }
}

export function saveForCli(statePath: string, e: Engine): boolean {
  try {
    saveStateFile(statePath, e);
    return true;
  } catch (err) {
    process.stderr.write(`lvsdeck: cannot write state file ${statePath}: ${(err as Error).message}\n`);
    return false;
  }
}

/** All of standard input (ipvsadm -R reads it to the end, from a terminal too), bounded. */
export function readStdin(): Promise<string> {
  return readBoundedStream(process.stdin, BOUNDS.configFileBytes, 'standard input');
}

/** A file for `sysctl -p`: a regular file within the bound (its errors are sysctl's "cannot open"). */
export function readTextFile(path: string): string {
  return readBoundedFile(path, BOUNDS.configFileBytes);
}

/** What a state-file command produced. */
export interface StateCommandResult {
  stdout: string;
  stderr: string;
  code: number;
  mutated: boolean;
}

/**
 * The shape of `lvsdeck ipvsadm` and `lvsdeck sysctl`: take --state, load the engine, run the
 * command, print its output, and save the state file only when a changing command succeeded.
 */
export async function runOnStateFile(args: readonly string[],
  command: (engine: Engine, rest: string[]) => Promise<StateCommandResult> | StateCommandResult): Promise<number> {
  const parsed = takeStateOption(args);
  if ('error' in parsed) {
    process.stderr.write(`${parsed.error}\n`);
    return 2;
  }
  try {
    // load, run and save under the lock: a concurrent invocation waits rather than losing a change
    return await withStateLock(parsed.statePath, async () => {
      const engine = loadForCli(parsed.statePath);
      if (!engine) return 1;
      const r = await command(engine, parsed.rest);
      if (r.stdout) process.stdout.write(r.stdout);
      if (r.stderr) process.stderr.write(r.stderr);
      if (r.code === 0 && r.mutated && !saveForCli(parsed.statePath, engine)) return 1;
      return r.code;
    });
  } catch (err) {
    if (err instanceof StateLockError || err instanceof BoundError) {
      process.stderr.write(`lvsdeck: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
