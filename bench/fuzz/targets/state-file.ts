// State files of `lvsdeck ipvsadm` / `lvsdeck sysctl`: a real captured configuration (services of
// every kind, tunnels, tunables, timeouts, daemons) mutated as a JSON tree (fields of the wrong
// type or out of range, missing, duplicated) and as text. The loader refuses with a StateError
// naming the field; anything else is a crash.
import {runIpvsadm} from '../../../src/ipvsadm/exec.js';
import {StateError, captureState, engineFromState} from '../../../src/ipvsadm/state.js';
import {runSysctl} from '../../../src/ipvsadm/sysctl.js';
import {type Rng, chance, mutateJson, mutateText, smallEngine} from '../mutate.js';

function sample(): unknown {
  const e = smallEngine();
  const script = `-A -t 192.0.2.1:80 -s wrr -p 300 -M 255.255.255.0
-a -t 192.0.2.1:80 -r 10.1.0.2:80 -m -w 3 -x 100 -y 10
-a -t 192.0.2.1:80 -r 10.1.0.3:80 -i --tun-type gue --tun-port 6080 --tun-csum
-A -f 7 -6 -s sh -b sh-port -p 60 -M 64
-a -f 7 -6 -r [2001:db8::2]:0 -g
-A -u [2001:db8::1]:53 -s mh -o
-a -u [2001:db8::1]:53 -r [2001:db8::3]:53 -m -w 0
--set 900 120 300
--start-daemon master --mcast-interface lo --syncid 9 --mcast-port 8849
--start-daemon backup --mcast-interface lo`;
  const r = runIpvsadm(e, ['-R'], {stdin: script});
  if (r.code !== 0) throw new Error(`fuzz sample config: ${r.stderr}`);
  runSysctl(e, ['-w', 'net.ipv4.vs.am_droprate=20', '-w', 'net.ipv4.vs.sync_threshold=4 60']);
  return captureState(e);
}

const SAMPLE = sample();
const TEXT = JSON.stringify(SAMPLE, null, 2);
const TOKENS = ['"', ',', '{', '}', '[', ']', ':', 'null', '-1', '1e999', '"abc"', '70000', '1.5', 'true'];

export default {
  name: 'state-file',
  expectedErrors: [StateError],
  run(rng: Rng): void {
    let json: unknown;
    if (chance(rng, 0.25)) {
      try {
        json = JSON.parse(mutateText(rng, TEXT, TOKENS));
      } catch {
        return; // not JSON: the loader's JSON.parse step, reported before the schema
      }
    } else json = mutateJson(rng, SAMPLE);
    engineFromState(json, {connTabBits: 8, logCapacity: 16});
  },
};
