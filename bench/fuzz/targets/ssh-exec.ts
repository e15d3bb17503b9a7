// exec lines (`ssh HOST COMMAND`): the read-only listings mutated (options, operands, quoting,
// control characters, huge and empty words) and anything else a client may send. runExec answers
// every line with an exit status and never throws; nothing it runs changes the engine.
import {buildDemo, DEMO_MEMORY} from '../../../src/demo/default-config.js';
import {runIpvsadm} from '../../../src/ipvsadm/exec.js';
import {runSysctl} from '../../../src/ipvsadm/sysctl.js';
import {AuditLog} from '../../../src/store/actions.js';
import {engineListings, runExec} from '../../../src/ssh/exec.js';
import {type Rng, chance, int, mutateText, pick, randomText, valueText} from '../mutate.js';

const LINES = [
  'ipvsadm -Ln', 'ipvsadm -Lnc', 'ipvsadm -L -n --stats', 'ipvsadm -Ln --rate', 'ipvsadm -Ln --timeout', 'ipvsadm -Ln --daemon',
  'ipvsadm -Ln --thresholds', 'ipvsadm -Ln --persistent-conn', 'ipvsadm -Sn', 'ipvsadm -L -t 10.0.0.1:80', 'ipvsadm -l',
  'sysctl -a', 'sysctl net.ipv4.vs.drop_entry', 'sysctl -n net.ipv4.vs.amemthresh net.ipv4.vs.conn_reuse_mode', 'who',
  'audit', 'audit 5', 'help', '', 'ipvsadm -A -t 10.9.9.9:80', 'ipvsadm -C', 'sysctl -w net.ipv4.vs.drop_entry=3',
  'ipvsadm -R', 'sysctl -p /etc/sysctl.conf', 'sh -c "rm -rf /"', 'ipvsadm -Z', 'ipvsadm --set 1 1 1',
];
const TOKENS = [' ', '-', '--', '-n', '-c', '-L', '-S', '-w', '=', '"', "'", '\\', '\n', '\x00', '\x1b[2J', ';', '|', '`',
  '$(', '10.0.0.1:80', '[::1]:80', '-t', '-u', '-f', '1', '-p', 'net.ipv4.vs.', 'audit', '99999', '--stats', '--exact'];

// one world for every case: each case checks that it left the configuration as it found it
const sim = buildDemo(1, DEMO_MEMORY);
sim.runUntil(2000);
const audit = new AuditLog(1000);
const config = () => runIpvsadm(sim.engine, ['-S', '-n']).stdout + runSysctl(sim.engine, ['-a']).stdout;
const initial = config();

export default {
  name: 'ssh-exec',
  run(rng: Rng): void {
    let line: string;
    switch (int(rng, 4)) {
      case 0: line = pick(rng, LINES); break;
      case 1: case 2: line = mutateText(rng, pick(rng, LINES), TOKENS, 5); break;
      default: line = Array.from({length: int(rng, 8)}, () => (chance(rng, 0.5) ? valueText(rng) : randomText(rng, int(rng, 12)))).join(' ');
    }
    const r = runExec(line, {listings: engineListings(sim.engine), peers: () => [], audit: () => audit.list(), maxConnListing: 5000});
    if (!Number.isInteger(r.code) || typeof r.stdout !== 'string' || typeof r.stderr !== 'string') throw new Error('malformed exec result');
    if (r.code !== 0 && !r.stderr) throw new Error(`exit ${r.code} without a message`);
    if (config() !== initial) throw new Error(`exec ${JSON.stringify(line)} changed the engine`);
  },
};
