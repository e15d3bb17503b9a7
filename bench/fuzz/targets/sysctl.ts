// sysctl(8) on net.ipv4.vs.*: reads, -w writes of every tunable with in-range, borderline and
// garbage values (lists for the vectors, huge and negative numbers), -p files of mutated
// NAME = VALUE lines, and odd switches. runSysctl reports problems in its result; never throws.
import {TUNABLES} from '../../../src/engine/tunables.js';
import {runSysctl} from '../../../src/ipvsadm/sysctl.js';
import {type Rng, chance, int, mutateText, pick, smallEngine, valueText} from '../mutate.js';

const NAMES = TUNABLES.map((t) => t.name);
const SWITCHES = ['-w', '-a', '-n', '-N', '-q', '-e', '-p', '-b', '--values', '--names', '--write', '--load', '--all', '--', '-x', '-wq', '-ew'];

function name(rng: Rng): string {
  const n = pick(rng, NAMES);
  switch (int(rng, 5)) {
    case 0: return n;
    case 1: return `net.ipv4.vs.${n}`;
    case 2: return `net/ipv4/vs/${n}`;
    case 3: return `net.ipv4.vs.${mutateText(rng, n, NAMES, 2)}`;
    default: return pick(rng, ['net.ipv4.vs', 'net.ipv4', 'kernel.pid_max', '', '.', 'net..ipv4.vs.am_droprate']);
  }
}

function value(rng: Rng): string {
  if (chance(rng, 0.2)) return Array.from({length: 1 + int(rng, 14)}, () => valueText(rng)).join(pick(rng, [' ', '\t', ',']));
  return valueText(rng);
}

export default {
  name: 'sysctl',
  run(rng: Rng): void {
    const e = smallEngine();
    const args: string[] = [];
    const n = 1 + int(rng, 5);
    let file = '';
    for (let i = 0; i < n; i++) {
      switch (int(rng, 5)) {
        case 0: case 1: args.push('-w', `${name(rng)}=${value(rng)}`); break;
        case 2: args.push(name(rng)); break;
        case 3: args.push(pick(rng, SWITCHES)); break;
        default: {
          const lines = Array.from({length: 1 + int(rng, 6)}, () => `${name(rng)} = ${value(rng)}`);
          file = mutateText(rng, lines.join('\n'), ['#', ';', '=', '\n', '-']);
          args.push('-p', 'fuzz.conf');
        }
      }
    }
    const r = runSysctl(e, args, {readFile: () => file});
    if (typeof r.code !== 'number') throw new Error('malformed result');
  },
};
