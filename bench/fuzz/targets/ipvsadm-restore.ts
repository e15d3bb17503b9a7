// ipvsadm -R: a restore stream built from -S style lines, mutated as text (quotes, comments,
// missing values, odd characters, truncation). Every problem ends the restore with ipvsadm's text
// and an exit status; nothing throws.
import {runIpvsadm} from '../../../src/ipvsadm/exec.js';
import {type Rng, chance, int, mutateText, pick, smallEngine} from '../mutate.js';
import {ipvsadmArgv} from './ipvsadm-args.js';

const SAVED = [
  '-A -t 192.0.2.1:80 -s rr', '-a -t 192.0.2.1:80 -r 10.1.0.2:80 -m -w 1', '-a -t 192.0.2.1:80 -r 10.1.0.3:80 -g -w 3',
  '-A -u 192.0.2.1:53 -s wlc -p 300', '-a -u 192.0.2.1:53 -r 10.1.0.2:53 -i -w 2 --tun-type gue --tun-port 6080',
  '-A -f 7 -s sh -b sh-port', '-a -f 7 -r 10.1.0.4:0 -g', '-A -t [2001:db8::1]:443 -s mh', '# a comment', '',
  'ipvsadm -a -t 192.0.2.1:80 -r 10.1.0.5:8080 -m -x 10 -y 5', "-A -t '192.0.2.9:80' -s \"rr\"", '-C', '--set 900 120 300',
];
const TOKENS = ['"', "'", '\\', '#', ' -R', ' -S', '\n', ' -t ', ' -r ', ' -w 65536', ' -p -1', 'ipvsadm '];

export default {
  name: 'ipvsadm-restore',
  run(rng: Rng): void {
    const lines: string[] = [];
    const n = 1 + int(rng, 12);
    for (let i = 0; i < n; i++) lines.push(chance(rng, 0.8) ? pick(rng, SAVED) : ipvsadmArgv(rng).join(' '));
    let text = lines.join('\n');
    if (chance(rng, 0.7)) text = mutateText(rng, text, TOKENS);
    const e = smallEngine();
    const r = runIpvsadm(e, [pick(rng, ['-R', '--restore', '-R', '-Rn'])], {stdin: text});
    if (typeof r.code !== 'number') throw new Error('malformed result');
  },
};
