// `lvsdeck sysctl [--state FILE] [-a | NAME... | -w NAME=VALUE...]`: sysctl(8) for net.ipv4.vs.*
// against the saved configuration; the state file changes only when every write succeeded.
import {readTextFile, runOnStateFile} from '../ipvsadm/cli-support.js';
import {runSysctl} from '../ipvsadm/sysctl.js';

export async function run(args: string[]): Promise<number> {
  if (args[0] === '--director') {
    const {runAgainstDirector} = await import('../dataplane/control.js');
    return runAgainstDirector('sysctl', args.slice(1));
  }
  if (args[0] === '--kernel') {
    // this host's /proc/sys/net/ipv4/vs (docs/kernel.md)
    const {kernelSysctl, emit} = await import('../kernel/cli.js');
    return emit(kernelSysctl(args.slice(1)));
  }
  return runOnStateFile(args, (engine, rest) => runSysctl(engine, rest, {readFile: readTextFile}));
}
