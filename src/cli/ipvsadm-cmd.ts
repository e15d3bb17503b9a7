// `lvsdeck ipvsadm [--state FILE] ARGS...`: ipvsadm's syntax and output against the configuration
// kept in the state file, which is rewritten (atomically) only when a changing command succeeded.
import {readStdin, runOnStateFile} from '../ipvsadm/cli-support.js';
import {runIpvsadm} from '../ipvsadm/exec.js';

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
  if (args[0] === '--director') {
    // the running data plane's live engine (docs/dataplane.md)
    const {runAgainstDirector} = await import('../dataplane/control.js');
    return runAgainstDirector('ipvsadm', args.slice(1), stdin);
  }
  if (args[0] === '--kernel') {
    // this host's kernel IPVS, through its ipvsadm (docs/kernel.md)
    const {kernelIpvsadm, emit} = await import('../kernel/cli.js');
    return emit(kernelIpvsadm(args.slice(1), undefined, wantsStdin ? stdin : undefined));
  }
  return runOnStateFile(args, (engine, rest) => runIpvsadm(engine, rest, {stdin}));
}
