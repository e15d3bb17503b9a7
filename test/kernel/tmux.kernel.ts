// The real binary, `lvsdeck --kernel --allow-writes`, in tmux at 140x45 on the real kernel (inside
// tools/kernel-vm, whose image carries tmux): the kernel's services, connections with their kernel
// states, the defense badges as update_defense_level (ip_vs_ctl.c) rewrites the modes, and a key
// press that reaches /proc/sys. Launched with `env -u CI`: with CI set, Ink draws nothing.
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {after, before, describe, it} from 'node:test';
import {defenseMemory} from '../../src/kernel/proc.js';
import {capture, keys, sleep, tmux, waitFor} from '../helpers/tmux.js';
import {BLACKHOLE, RS1, RS2, VIP, buildLab, inVm, ipvsadm, resetIpvs, sh, sysctl} from './lab.js';

const hasTmux = spawnSync('sh', ['-c', 'command -v tmux'], {stdio: 'ignore'}).status === 0;
const skip = !inVm ? 'needs the kernel VM (tools/kernel-vm)' : !hasTmux ? 'the VM image has no tmux (tools/kernel-vm/run.sh copies the host\'s)' : false;
const esc = (s: string) => s.replace(/\./g, '\\.');
const SESSION = 'lvsdeck-kernel';

describe('lvsdeck --kernel in tmux at 140x45', {skip}, () => {
  const holders: ChildProcess[] = [];
  before(() => {
    assert.ok(existsSync('dist/src/cli/main.js'), 'the compiled program is missing (dist/): npm run build');
    buildLab();
    resetIpvs();
    ipvsadm('-A', '-t', `${VIP}:80`, '-s', 'wrr');
    ipvsadm('-a', '-t', `${VIP}:80`, '-r', `${RS1}:80`, '-m', '-w', '3');
    ipvsadm('-a', '-t', `${VIP}:80`, '-r', `${RS2}:80`, '-m', '-w', '1');
    ipvsadm('-A', '-t', `${VIP}:81`, '-s', 'rr');
    ipvsadm('-a', '-t', `${VIP}:81`, '-r', `${BLACKHOLE}:80`, '-m');
    ipvsadm('-A', '-t', `${VIP}:82`, '-s', 'rr');
    ipvsadm('-a', '-t', `${VIP}:82`, '-r', `${RS1}:8080`, '-m');
  });
  after(() => {
    spawnSync('tmux', ['kill-server']);
    for (const p of holders) p.kill('SIGKILL');
    sh('for n in cl rs1; do ip netns exec $n sh -c "killall nc sleep 2>/dev/null; true"; done');
    resetIpvs();
  });

  /**
   * The entries the views should show, made once the app is up (under TCG it starts in tens of
   * seconds, longer than a SYN_RECV entry lives): a connection both ends hold open (busybox httpd
   * would close an idle one after 60 s) and SYNs that nobody answers.
   */
  function makeEntries(): void {
    holders.push(spawn('ip', ['netns', 'exec', 'rs1', 'sh', '-c', 'sleep 900 | nc -l -p 8080'], {stdio: 'ignore'}));
    spawnSync('sleep', ['1']);
    holders.push(spawn('ip', ['netns', 'exec', 'cl', 'sh', '-c', `sleep 900 | nc ${VIP} 82`], {stdio: 'ignore'}));
    // a SYN every 5 s (a SYN_RECV entry lives 60 s; a loaded TCG host takes longer to get there)
    holders.push(spawn('ip', ['netns', 'exec', 'cl', 'sh', '-c', `while :; do nc -w 1 ${VIP} 81 </dev/null; sleep 5; done`], {stdio: 'ignore'}));
  }

  it('services, connections in their kernel states, the defense badges; `p` arms drop_packet, which the kernel turns ACTIVE', async () => {
    tmux('new-session', '-d', '-s', SESSION, '-x', '140', '-y', '45', 'sh', '-c',
      'env -u CI -u NODE_ENV node bin/lvsdeck.js --kernel --allow-writes; echo APP-EXIT=$?; sleep 60');
    // TCG is slow: node loads the program and draws its first frame in 30 to 60 s on a loaded host
    await waitFor(SESSION, /drop_entry:off\s+drop_packet:off\s+secure_tcp:off/, 240_000, 500);
    makeEntries();
    // the table may hold other tests' entries (one VM runs every file): filter by state, which the
    // background scan answers (the view says how old its data is)
    // one key at a time: Ink reads keys that arrive together as one paste
    const type = async (...k: string[]) => { for (const x of k) { keys(SESSION, ...(x.length > 1 && !/^(Enter|C-u)$/.test(x) ? ['-l', x] : [x])); await sleep(1500); } };
    keys(SESSION, '3');
    await waitFor(SESSION, /Connections \d+/, 60_000, 250);
    await type('/', 'established', 'Enter');
    const est = await waitFor(SESSION, new RegExp(`filter "established"[\\s\\S]*198\\.18\\.0\\.2:\\d+\\s+${esc(VIP)}:82\\s+${esc(RS1)}:8080\\s+ESTABLISHED`), 60_000, 250);
    assert.match(est, /as of a scan \d+ s ago/, est);
    await type('/', 'C-u', 'syn_recv', 'Enter');
    await waitFor(SESSION, new RegExp(`filter "syn_recv"[\\s\\S]*${esc(VIP)}:81\\s+${esc(BLACKHOLE)}:80\\s+SYN_RECV`), 60_000, 250);
    await type('/', 'C-u', 'Enter');
    keys(SESSION, '2');
    const svc = await waitFor(SESSION, new RegExp(`Services: 3 virtual[\\s\\S]*${esc(RS1)}:8080`), 60_000, 250);
    assert.match(svc, new RegExp(`TCP\\s+${esc(VIP)}:80\\s+wrr`), svc);
    assert.match(svc, new RegExp(`${esc(RS1)}:80\\s+Masq\\s+3\\b`), svc);
    assert.match(svc, new RegExp(`${esc(RS2)}:80\\s+Masq\\s+1\\b`), svc);
    assert.match(svc, new RegExp(`${esc(BLACKHOLE)}:80`), svc);
    // memory short on purpose, from outside the app: amemthresh over what update_defense_level
    // reads, so drop_entry=1 turns ACTIVE (2) on the write; secure_tcp always on (3)
    const avail = defenseMemory(sh('cat /proc/meminfo'), sh('cat /proc/vmstat')).availablePages;
    sh(`cd /proc/sys/net/ipv4/vs; echo ${avail * 2} > amemthresh; echo 1 > drop_entry; echo 3 > secure_tcp`);
    assert.equal(sysctl('drop_entry'), '2');
    keys(SESSION, '1');
    await waitFor(SESSION, /drop_entry:ACTIVE\s+drop_packet:off\s+secure_tcp:always/, 60_000, 250);
    // the key press: drop_packet off -> armed (1), which the kernel turns ACTIVE (2) on the write
    keys(SESSION, 'p');
    const after = await waitFor(SESSION, /drop_entry:ACTIVE\s+drop_packet:ACTIVE\s+secure_tcp:always/, 60_000, 250);
    assert.equal(sysctl('drop_packet'), '2');
    const lines = after.replace(/\n+$/, '').split('\n');
    assert.ok(lines.length <= 45 && lines.every((l) => l.length <= 140), `frame of ${lines.length} lines`);
    keys(SESSION, 'q');
    await waitFor(SESSION, /APP-EXIT=0/, 20_000, 250);
    assert.doesNotMatch(capture(SESSION), /Error|at .*\.js:\d+/);
  });
});
