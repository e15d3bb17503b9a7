// `lvsdeck sysctl [--state FILE] [-a | NAME... | -w NAME=VALUE...]`: sysctl(8) for net.ipv4.vs.*
// against the saved configuration; the state file changes only when every write succeeded.
import {loadForCli, readTextFile, saveForCli, takeStateOption} from '../ipvsadm/cli-support.js';
import {runSysctl} from '../ipvsadm/sysctl.js';

export const usage = 'sysctl for net.ipv4.vs.*: [--state FILE] -a | NAME | -w NAME=VALUE';

export async function run(args: string[]): Promise<number> {
  const parsed = takeStateOption(args);
  if ('error' in parsed) {
    process.stderr.write(`${parsed.error}\n`);
    return 2;
  }
  const engine = loadForCli(parsed.statePath);
  if (!engine) return 1;
  const r = runSysctl(engine, parsed.rest, {readFile: readTextFile});
  if (r.stdout) process.stdout.write(r.stdout);
  if (r.stderr) process.stderr.write(r.stderr);
  if (r.code === 0 && r.mutated && !saveForCli(parsed.statePath, engine)) return 1;
  return r.code;
}
