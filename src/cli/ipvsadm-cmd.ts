// `lvsdeck ipvsadm [--state FILE] ARGS...`: ipvsadm's syntax and output against the configuration
// kept in the state file, which is rewritten (atomically) only when a changing command succeeded.
import {takeStateOption, loadForCli, readStdin, saveForCli} from '../ipvsadm/cli-support.js';
import {runIpvsadm} from '../ipvsadm/exec.js';

export const usage = 'ipvsadm syntax on the saved configuration: [--state FILE] -A/-a/-L/-S/-R ... (see -h)';

export async function run(args: string[]): Promise<number> {
  const parsed = takeStateOption(args);
  if ('error' in parsed) {
    process.stderr.write(`${parsed.error}\n`);
    return 2;
  }
  const engine = loadForCli(parsed.statePath);
  if (!engine) return 1;
  const wantsStdin = parsed.rest.some((a) => a === '-R' || a === '--restore' || (/^-[A-Za-z0-9]+$/.test(a) && a.includes('R')));
  const stdin = wantsStdin ? await readStdin() : '';
  const r = runIpvsadm(engine, parsed.rest, {stdin});
  if (r.stdout) process.stdout.write(r.stdout);
  if (r.stderr) process.stderr.write(r.stderr);
  if (r.code === 0 && r.mutated && !saveForCli(parsed.statePath, engine)) return 1;
  return r.code;
}
