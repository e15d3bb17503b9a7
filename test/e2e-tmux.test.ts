// End to end: the real binary in tmux (send-keys, capture-pane). Always launched with `env -u CI`:
// with CI set, Ink draws nothing. Each test has its own session name; all are killed in afterAll.
import {execFileSync, spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {capture, keys, tmux, waitFor} from './helpers/tmux.js';
import {sleep} from './helpers/ssh-client.js';

const ROOT = new URL('..', import.meta.url).pathname;
const sessions: string[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'lvsdeck-e2e-'));
const hasTmux = spawnSync('tmux', ['-V']).status === 0;

const fmt = (s: string, f: string) => tmux('display-message', '-p', '-t', s, f).trim();

function launch(cols: number, rows: number, args = ''): string {
  const name = `lvsdeck-e2e-${process.pid}-${sessions.length}-${cols}x${rows}`;
  sessions.push(name);
  const cmd = `cd ${ROOT} && echo BEFORE-MARKER && env -u CI -u NODE_ENV node bin/lvsdeck.js ${args}; echo APP-EXIT=$?; sleep 60`;
  tmux('new-session', '-d', '-s', name, '-x', String(cols), '-y', String(rows), 'sh', '-c', cmd);
  return name;
}


/** The app's pid: the child of the pane's shell. */
function appPid(s: string): number {
  const shell = fmt(s, '#{pane_pid}');
  const out = execFileSync('pgrep', ['-P', shell], {encoding: 'utf8'}).trim().split('\n')[0]!;
  return Number(out);
}

beforeAll(() => {
  if (!hasTmux) throw new Error('tmux is needed for the end-to-end tests');
});
afterAll(() => {
  for (const s of sessions) spawnSync('tmux', ['kill-session', '-t', s]);
  rmSync(tmp, {recursive: true, force: true});
});

describe.skipIf(!hasTmux)('lvsdeck in tmux', () => {
  test('140x45: the Dashboard fills the screen and every tab fits; views, tunable edit, defenses by key, SYN flood, quit restores the terminal', async () => {
    const s = launch(140, 45);
    await waitFor(s, /lvsdeck \d\d:\d\d:\d\d ▶ ×1 .*conns .*conn\/s .*pkt\/s in .*mem [█░]+/, 20_000);
    await waitFor(s, /drop_entry:armed\s+drop_packet:armed\s+secure_tcp:armed/);
    expect(fmt(s, '#{alternate_on}')).toBe('1');
    // the lower half is used: memory over time under the drop chart, new connections/s per
    // virtual service, the real servers holding the most connections; no tab is cut
    const dash = await waitFor(s, /Top real servers[\s\S]*10\.1\.0\.\d+:\d+ +\d+ +[\d,]+ +\d+/);
    expect(dash).toMatch(/Memory over time\s+■available [\d,]+\s+■amemthresh 1,024 pages/);
    expect(dash).toMatch(/New connections\/s per virtual service\n.*TCP 10\.0\.0\.1:80\s+[▁▂▃▄▅▆▇█ ]+\s+\d+/);
    expect(dash).toMatch(/UDP 10\.0\.0\.3:53\s+[▁▂▃▄▅▆▇█ ]+\s+\d+/);
    const tabs = dash.split('\n')[1]!;
    for (const tab of ['1 Dashboard', '2 Svc', '3 Conns', '4 Tun', '5 Traffic', '6 Log', '8 Sync']) expect(tabs).toContain(tab);
    expect(tabs).not.toContain('…');
    const titles = [/Drops per virtual second/, /Services: 3 virtual, 7 real servers/, /Connections [\d,]+\s+slot order/,
      /Tunables\s+\/proc\/sys\/net\/ipv4\/vs: 32/, /Attacks\/Traffic\s+3 generators/, /Log\s+debug_level 0/];
    for (let i = 0; i < 6; i++) {
      keys(s, String(i + 1));
      await waitFor(s, titles[i]!);
    }
    keys(s, 'Tab');
    await waitFor(s, titles[0]!);

    // Tunables: drop_entry = 7 is refused (the old value stays), then 0 is written
    keys(s, '4');
    await waitFor(s, titles[3]!);
    for (let i = 0; i < 7; i++) keys(s, 'j');
    await waitFor(s, /▸\*drop_entry\s+1\s+0/);
    keys(s, 'Enter');
    await waitFor(s, /drop_entry = 1/);
    keys(s, 'BSpace', '7', 'Enter');
    await waitFor(s, /✗ drop_entry: invalid value '7': .*value kept: 1/);
    keys(s, 'Enter');
    await waitFor(s, /drop_entry = 1/);
    keys(s, 'BSpace', '0', 'Enter');
    await waitFor(s, /✓ drop_entry = 0/);
    await waitFor(s, /drop_entry:off/);

    // each defense by its key
    keys(s, 'e');
    await waitFor(s, /drop_entry:armed/);
    keys(s, 'p');
    await waitFor(s, /drop_packet:always/);
    keys(s, 'p', 'p');
    await waitFor(s, /drop_packet:armed/);
    keys(s, 's');
    await waitFor(s, /secure_tcp:always/);
    keys(s, 's');
    await waitFor(s, /secure_tcp:off/);
    keys(s, 's');
    await waitFor(s, /secure_tcp:armed/);

    // SYN flood at x10: memory falls below amemthresh and drop_entry goes ACTIVE
    keys(s, '1', '>', '>', '>');
    await waitFor(s, /▶ ×10/);
    const availBefore = Number(/available ([\d.]+)MiB/.exec(capture(s))![1]);
    keys(s, 'a');
    await waitFor(s, /▸ synflood\s+10\.0\.0\.1:80\s+5,000\s+not started/);
    keys(s, 'Enter');
    await waitFor(s, /synflood\s+10\.0\.0\.1:80\s+5,000\s+RUNNING/);
    keys(s, 'Escape');
    const screen = await waitFor(s, /drop_entry:ACTIVE/, 20_000);
    expect(screen).toMatch(/BELOW THRESHOLD|drop_entry:ACTIVE/);
    const after = await waitFor(s, /available [\d.]+MiB/);
    expect(Number(/available ([\d.]+)MiB/.exec(after)![1])).toBeLessThan(availBefore - 8);

    // quit: exit status 0, alternate screen left, the shell's output is back, no UI remnants
    keys(s, 'q');
    const end = await waitFor(s, /APP-EXIT=0/);
    expect(end).toContain('BEFORE-MARKER');
    expect(end).not.toMatch(/drop_entry:|Drops per virtual second/);
    expect(fmt(s, '#{alternate_on}')).toBe('0');
    expect(fmt(s, '#{cursor_flag}')).toBe('1');
  }, 80_000);

  test('80x24: fits, views work, resize re-lays out, Ctrl-C quits and restores', async () => {
    const s = launch(80, 24);
    const first = await waitFor(s, /entry:armed\s+packet:armed\s+secure:armed\s+│ 1 Dashboard/, 20_000);
    const lines = first.split('\n');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d ▶ ×1\s+conns [\d.,k]+\s+[\d.k]+ c\/s\s+pkt\/s \S+\/\S+\s+mem [█░]+ [\d.]+MiB/);
    keys(s, '3');
    await waitFor(s, /Connections [\d,]+\s+slot order\s+rows 1-1\d/);
    await waitFor(s, /Pro Client\s+Real server\s+State\s+Expire/);
    keys(s, '2');
    await waitFor(s, /-> 10\.1\.0\.11:8080\s+Masq\s+3/);
    tmux('resize-window', '-t', s, '-x', '140', '-y', '45');
    await waitFor(s, /drop_entry:armed\s+drop_packet:armed/);
    await waitFor(s, /1 Dash\s+2 Services\s+3 Conns\s+4 Tun\s+5 Traffic\s+6 Log\s+8 Sync/);
    tmux('resize-window', '-t', s, '-x', '80', '-y', '24');
    await waitFor(s, /entry:armed\s+packet:armed/);
    keys(s, 'C-c');
    const end = await waitFor(s, /APP-EXIT=0/);
    expect(end).toContain('BEFORE-MARKER');
    expect(end).not.toMatch(/entry:armed/);
    expect(fmt(s, '#{alternate_on}')).toBe('0');
  }, 60_000);

  test('keys Ink\'s parser throws on (ESC [1;5X, ESC [99;5~, ESC O5X) are dropped: the app goes on and quits normally', async () => {
    const s = launch(100, 30);
    await waitFor(s, /entry:armed\s+packet:armed/, 20_000);
    for (const seq of ['\x1b[1;5X', '\x1b[99;5~', '\x1bO5X']) {
      tmux('send-keys', '-t', s, '-l', seq);
      await sleep(300); // apart: Ink parses keys that arrive together as one read
    }
    keys(s, '3');
    await waitFor(s, /Connections [\d,]+\s+slot order/);
    keys(s, 'q');
    const end = await waitFor(s, /APP-EXIT=0/);
    expect(end).not.toMatch(/TypeError|startsWith/);
  }, 40_000);

  test('SIGTERM restores the terminal; --mono draws without colour', async () => {
    const s = launch(100, 30, '--mono');
    await waitFor(s, /entry:armed\s+packet:armed/, 20_000);
    const colours = tmux('capture-pane', '-p', '-e', '-t', s);
    expect(colours).not.toMatch(/\x1b\[(3[1-7]|4[1-7]|9[0-7])m/);
    expect(fmt(s, '#{alternate_on}')).toBe('1');
    process.kill(appPid(s), 'SIGTERM');
    const end = await waitFor(s, /APP-EXIT=143/);
    expect(end).toContain('BEFORE-MARKER');
    expect(fmt(s, '#{alternate_on}')).toBe('0');
    expect(fmt(s, '#{cursor_flag}')).toBe('1');
  }, 40_000);

  test('--config: an ipvsadm-save file and a scenario file', async () => {
    const save = join(tmp, 'rules.save');
    writeFileSync(save, '-A -t 10.9.0.1:80 -s rr\n-a -t 10.9.0.1:80 -r 10.9.1.1:80 -m -w 1\n-a -t 10.9.0.1:80 -r 10.9.1.2:80 -m -w 2\n');
    const a = launch(120, 30, `--config ${save}`);
    await waitFor(a, /2 ipvsadm rules|3 ipvsadm rules/, 20_000);
    keys(a, '2');
    await waitFor(a, /TCP 10\.9\.0\.1:80\s+rr/);
    await waitFor(a, /-> 10\.9\.1\.2:80\s+Masq\s+2\s+\d+/);
    keys(a, 'q');
    await waitFor(a, /APP-EXIT=0/);
    const yaml = join(tmp, 'flood.yaml');
    writeFileSync(yaml, [
      'name: flood later', 'seed: 3', 'memory: {total: 256MiB, used: 236MiB}', 'sysctl:', '  drop_entry: 1',
      'rules: |', '  -A -t 10.0.0.9:80 -s wlc', '  -a -t 10.0.0.9:80 -r 10.1.0.91:8080 -m -w 1',
      'traffic:', '  - {at: 0s, kind: clients, to: 10.0.0.9:80, rate: 20}',
      '  - {at: 1s, for: 30s, kind: synflood, to: 10.0.0.9:80, rate: 20000}', '',
    ].join('\n'));
    const b = launch(120, 30, `--config ${yaml}`);
    await waitFor(b, /scenario "flood later"/, 20_000);
    keys(b, '5');
    await waitFor(b, /synflood-1\s+synflood\s+10\.0\.0\.9:80\s+20,000 running/);
    await waitFor(b, /drop_entry:ACTIVE/, 15_000);
    keys(b, 'q');
    await waitFor(b, /APP-EXIT=0/);
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'name: x\nsysctl:\n  drop_entry: 9\n');
    const r = spawnSync('node', ['bin/lvsdeck.js', '--config', bad], {cwd: ROOT, encoding: 'utf8', env: {...process.env, CI: ''}});
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:3:\d+: sysctl drop_entry = 9: .*must be 0\.\.3/);
  }, 60_000);
});
