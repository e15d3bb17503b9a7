// `lvsdeck ipvsadm [--state FILE] ARGS...`: ipvsadm's syntax and output against the configuration
// kept in the state file, which is rewritten (atomically) only when a changing command succeeded.
import {readStdin, runOnStateFile} from '../ipvsadm/cli-support.js';
import {runIpvsadm} from '../ipvsadm/exec.js';

export const usage = 'ipvsadm syntax on the saved configuration: [--state FILE] -A/-a/-L/-S/-R ... (see -h)';

export async function run(args: string[]): Promise<number> {
  return runOnStateFile(args, async (engine, rest) => {
    const wantsStdin = rest.some((a) => a === '-R' || a === '--restore' || (/^-[A-Za-z0-9]+$/.test(a) && a.includes('R')));
    return runIpvsadm(engine, rest, {stdin: wantsStdin ? await readStdin() : ''});
  });
}
