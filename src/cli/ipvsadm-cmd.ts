// `lvsdeck ipvsadm [--state FILE] ARGS...`: ipvsadm's syntax and output against the configuration
// kept in the state file, which is rewritten (atomically) only when a changing command succeeded.
import {readStdin, runOnStateFile} from '../ipvsadm/cli-support.js';
import {runIpvsadm} from '../ipvsadm/exec.js';

export const usage = 'ipvsadm syntax on the saved configuration: [--state FILE] -A/-a/-L/-S/-R ... (see -h)';

export async function run(args: string[]): Promise<number> {
  // standard input is read before the state file is locked, so a slow writer does not hold the lock
  const wantsStdin = args.some((a) => a === '-R' || a === '--restore' || (/^-[A-Za-z0-9]+$/.test(a) && a.includes('R')));
  let stdin = '';
  try {
    if (wantsStdin) stdin = await readStdin();
  } catch (err) {
    process.stderr.write(`lvsdeck: ${(err as Error).message}\n`);
    return 1;
  }
  return runOnStateFile(args, (engine, rest) => runIpvsadm(engine, rest, {stdin}));
}
