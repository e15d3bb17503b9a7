// ipvsadm's command line on an engine: 1..4 invocations built from ipvsadm's own options with
// meaningful, borderline and garbage values, some of them mutated. runIpvsadm reports every
// problem in its result (exit status and ipvsadm's text); it must never throw.
import {runIpvsadm} from '../../../src/ipvsadm/exec.js';
import {OPT_NAMES} from '../../../src/ipvsadm/parse.js';
import {type Rng, chance, int, mutateText, pick, smallEngine, valueText} from '../mutate.js';

const COMMANDS = ['-A', '-E', '-D', '-C', '-S', '-a', '-e', '-d', '-L', '-l', '-Z', '--set', '--start-daemon', '--stop-daemon',
  '-h', '--add-service', '--list', '-Ln', '-Lnc', '-lcn', '-R'];
const SHORT = ['-t', '-u', '-f', '--sctp-service', '-s', '-p', '-M', '-r', '-g', '-i', '-m', '-w', '-x', '-y', '-n', '-c',
  '-6', '-o', '-b', '-j', '-T', '-O', '-X', '-q', '--', '-'];
const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos', 'none', 'xx'];
const SVC = ['192.0.2.1:80', '192.0.2.1:http', '[2001:db8::1]:443', '198.51.100.1', '7', '1:0', '10.0.0.1:65536'];
const OPTIONS = [...SHORT, ...OPT_NAMES.map((n) => `--${n}`)];

function oneValue(rng: Rng): string {
  switch (int(rng, 5)) {
    case 0: return pick(rng, SVC);
    case 1: return pick(rng, SCHEDULERS);
    case 2: return pick(rng, ['master', 'backup', 'sh-fallback,sh-port', 'flag-1', 'sip', 'ipip', 'gue', 'gre', 'eth0']);
    default: return valueText(rng);
  }
}

export function ipvsadmArgv(rng: Rng): string[] {
  const argv: string[] = [pick(rng, COMMANDS)];
  const n = int(rng, 8);
  for (let i = 0; i < n; i++) {
    const opt = pick(rng, OPTIONS);
    if (chance(rng, 0.2)) argv.push(`${opt}=${oneValue(rng)}`);
    else {
      argv.push(opt);
      if (chance(rng, 0.8)) argv.push(oneValue(rng));
    }
  }
  if (chance(rng, 0.2)) return argv.map((a) => chance(rng, 0.2) ? mutateText(rng, a, OPTIONS, 2) : a);
  return argv;
}

export default {
  name: 'ipvsadm-args',
  run(rng: Rng): void {
    const e = smallEngine();
    runIpvsadm(e, ['-A', '-t', '192.0.2.1:80', '-s', 'rr']);
    const invocations = 1 + int(rng, 4);
    for (let i = 0; i < invocations; i++) {
      const argv = ipvsadmArgv(rng);
      const r = runIpvsadm(e, argv, {stdin: ''});
      if (typeof r.code !== 'number' || typeof r.stdout !== 'string' || typeof r.stderr !== 'string') {
        throw new Error(`malformed result for ${JSON.stringify(argv)}`);
      }
    }
  },
};
