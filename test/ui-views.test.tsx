// Every view renders what it should; views switch with 1..6, Tab and Shift-Tab; the header and the
// footer stay visible everywhere.
import {describe, expect, test} from 'vitest';
import {KEYS, harnessPerTest} from './ui-harness.js';
import {viewTabs} from '../components/Header.js';
import {planDashboard} from '../components/views/Dashboard.js';
import {VIEWS} from '../src/store/session.js';

const start = harnessPerTest();

const headerAndFooter = (s: string) => {
  expect(s).toMatch(/\d\d:\d\d:\d\d ▶ ×1/);      // virtual clock and speed
  expect(s).toMatch(/conns [\d,.k]+/);
  expect(s).toMatch(/c\/s|conn\/s/);
  expect(s).toMatch(/pkt\/s/);
  expect(s).toMatch(/mem [█░]+/);
  expect(s).toMatch(/entry:armed/);
  expect(s).toMatch(/packet:armed/);
  expect(s).toMatch(/secure:armed/);
  expect(s).toMatch(/\? help  │ /);
};

describe('views', () => {
  test('Dashboard: memory gauge, drop chart, rate sparklines, states mix', async () => {
    const h = start();
    const s = h.screen();
    headerAndFooter(s);
    expect(s).toMatch(/Memory\s+available [\d.]+MiB \([\d,]+ pages\)\s+amemthresh 1,024 pages/);
    expect(s).toContain('above threshold');
    expect(s).toContain('Drops per virtual second');
    expect(s).toContain('pkt drop: drop_packet');
    expect(s).toMatch(/conns\/s\s+[▁▂▃▄▅▆▇█ ]+\s+\d/);
    expect(s).toMatch(/Connection states\s+\d+% SYN_RECV/);
    expect(s).toMatch(/ESTABLISHED\s+\d+/);
    expect(s).toMatch(/UDP\s+[\d,]+/);
    expect(s).toMatch(/drop_entry\s+armed/);
  });

  test('Dashboard at 140x45: memory over time, new connections/s per service and the top real servers fill the lower half', async () => {
    const h = start({cols: 140, rows: 45});
    for (let i = 0; i < 5; i++) await h.advance(1000);
    const lines = h.screen().split('\n');
    const s = lines.join('\n');
    expect(s).toMatch(/Memory over time\s+■available [\d,]+\s+■amemthresh 1,024 pages/);
    expect(s).toContain('New connections/s per virtual service');
    for (const svc of ['TCP 10.0.0.1:80', 'TCP 10.0.0.2:443', 'UDP 10.0.0.3:53']) expect(s).toMatch(new RegExp(`${svc.replace(/\./g, '\\.')}\\s+[▁▂▃▄▅▆▇█ ]+\\s+\\d+`));
    expect(s).toMatch(/Top real servers\s+by connections held/);
    expect(s).toMatch(/Real server\s+Active\s+InAct\s+conn\/s/);
    // the servers are listed most connections first
    const held = lines.map((l) => /(10\.1\.0\.\d+:\d+)\s+([\d,]+)\s+([\d,]+)\s+\d+/.exec(l.slice(82))).filter((m) => m)
      .map((m) => Number(m![2]!.replace(/,/g, '')) + Number(m![3]!.replace(/,/g, '')));
    expect(held.length).toBe(7);
    expect(held).toEqual([...held].sort((a, b) => b - a));
    // the body is used to its last rows: something is drawn in the bottom quarter of both columns
    const body = lines.slice(2, 2 + 40);
    expect(body.slice(30).some((l) => l.slice(0, 81).trim() !== '')).toBe(true);
    expect(body.slice(28).some((l) => l.slice(82).trim() !== '')).toBe(true);
    // every tab fits at 140 columns
    for (const tab of ['1 Dashboard', '2 Svc', '3 Conns', '4 Tun', '5 Traffic', '6 Log', '8 Sync']) expect(lines[1]).toContain(tab);
    expect(lines[1]).not.toContain('…');
  });

  test('Services: each virtual service with its real servers and their numbers', async () => {
    const h = start();
    await h.press('2');
    const s = h.screen();
    headerAndFooter(s);
    expect(s).toMatch(/Services: 3 virtual, 7 real servers/);
    expect(s).toMatch(/TCP 10\.0\.0\.1:80\s+wlc/);
    expect(s).toMatch(/TCP 10\.0\.0\.2:443\s+wrr pers/);
    expect(s).toMatch(/UDP 10\.0\.0\.3:53\s+rr/);
    expect(s).toMatch(/-> 10\.1\.0\.11:8080\s+Masq\s+3\s+\d+/);
    expect(s).toMatch(/-> 10\.1\.0\.21:443\s+Route\s+1/);
    expect(s).toContain('+/- weight');
  });

  test('Connections: the live table with state and countdown', async () => {
    const h = start();
    await h.press('3');
    const s = h.screen();
    headerAndFooter(s);
    expect(s).toMatch(/Connections [\d,]+\s+slot order\s+rows 1-\d+/);
    expect(s).toMatch(/Pro Client\s+Virtual\s+Real server\s+State\s+Expire/);
    expect(s).toMatch(/TCP 192\.0\.2\.\d+:\d+\s+10\.0\.0\.1:80\s+10\.1\.0\.1\d:8080\s+[A-Z_]+\s+\d\d:\d\d/);
    expect(s).toMatch(/UDP 203\.0\.113\.\d+:\d+…?\s+10\.0\.0\.3:53/);
  });

  test('Tunables: every tunable with value, default, rule and help', async () => {
    const h = start();
    await h.press('4');
    const s = h.screen();
    headerAndFooter(s);
    expect(s).toMatch(/Tunables\s+\/proc\/sys\/net\/ipv4\/vs: 32, \d+ differ/);
    expect(s).toMatch(/am_droprate\s+10\s+10/);
    expect(s).toMatch(/\*drop_entry\s+1\s+0/);            // differs from the default: marked
    expect(s).toContain('allowed any C int');
    expect(s).toContain('rule    One integer');
  });

  test('Attacks/Traffic: the generators with rate and state', async () => {
    const h = start();
    await h.press('5');
    const s = h.screen();
    headerAndFooter(s);
    expect(s).toMatch(/Attacks\/Traffic\s+3 generators, 3 running/);
    expect(s).toMatch(/clients-1\s+clients\s+10\.0\.0\.1:80\s+120 running/);
  });

  test('Log: debug stream with the level, and the audit of changes', async () => {
    const h = start();
    await h.press('6');
    let s = h.screen();
    headerAndFooter(s);
    expect(s).toMatch(/Log\s+debug_level 0/);
    expect(s).toContain('Audit: operator changes (0)');
    await h.press('+', '+');                 // debug_level 2: configuration messages
    await h.press('e');                      // a change: audited and logged at level 2
    s = h.screen();
    expect(s).toMatch(/debug_level 2/);
    expect(s).toMatch(/L2\s+sysctl drop_entry = 3/);
    expect(s).toMatch(/Audit: operator changes \(3\)/);
    expect(s).toMatch(/tester\s+sysctl -w net\.ipv4\.vs\.drop_entry=3/);
  });

  test('1..6, Tab and Shift-Tab switch views; Esc goes back to the Dashboard', async () => {
    const h = start();
    const titles = ['Drops per virtual second', 'Services: 3 virtual', 'Connections ', 'Tunables  /proc', 'Attacks/Traffic  3', 'Log  debug_level'];
    for (let i = 0; i < 6; i++) {
      await h.press(String(i + 1));
      expect(h.screen()).toContain(titles[i]);
    }
    await h.press('1', KEYS.tab);
    expect(h.screen()).toContain(titles[1]);
    await h.press(KEYS.tab, KEYS.tab);
    expect(h.screen()).toContain(titles[3]);
    await h.press(KEYS.shiftTab);
    expect(h.screen()).toContain(titles[2]);
    await h.press(KEYS.esc);
    expect(h.screen()).toContain(titles[0]);
  });

  test('? shows every key; Esc closes it', async () => {
    const h = start();
    await h.press('?');
    const s = h.screen();
    expect(s).toContain('Help: keys');
    expect(s).toMatch(/e  p  s\s+cycle drop_entry/);
    expect(s).toMatch(/:\s+command bar/);
    await h.press(KEYS.esc);
    expect(h.screen()).not.toContain('Help: keys');
  });

  test('80x24: the header and footer fit and every view still renders', async () => {
    const h = start({rows: 24});
    h.session.setSize({cols: 80, rows: 24});
    await h.press('3');
    const lines = h.screen().split('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(80);
    expect(lines[0]).toMatch(/mem [█░]+ [\d.]+MiB/);
    expect(lines[1]).toMatch(/entry:armed\s+packet:armed\s+secure:armed\s+│/);
    expect(h.screen()).toMatch(/Pro Client\s+Real server/);
  });

  test('monochrome: charts carry no colour escapes', async () => {
    const h = start({mono: true});
    expect(h.lastFrame()).not.toMatch(/\x1b\[3\dm/);
  });
});

describe('layout of the header tabs and the Dashboard panels', () => {
  test('tabs: full titles when they fit, else short names beside the current title, else keys; never wider than the room', () => {
    const width = (tabs: {label: string}[]) => tabs.reduce((n, t) => n + t.label.length, 0);
    const all = VIEWS;
    expect(viewTabs(all, 'dashboard', 200).map((t) => t.label.trim())).toEqual(all.map((v) => `${v.key} ${v.title}`));
    const mid = viewTabs(all, 'conns', 84);
    expect(mid.map((t) => t.label.trim())).toEqual(['1 Dash', '2 Svc', '3 Connections', '4 Tun', '5 Traffic', '6 Log', '7 Audit', '8 Sync']);
    expect(width(mid)).toBeLessThanOrEqual(84);
    const narrow = viewTabs(all, 'traffic', 40);
    expect(narrow.map((t) => t.label.trim())).toEqual(['1', '2', '3', '4', '5 Attacks/Traffic', '6', '7', '8']);
    expect(width(narrow)).toBeLessThanOrEqual(40);
  });

  test('Dashboard plan: the memory chart only when tall enough, panels never exceed the body', () => {
    const n = {counters: 3, states: 7, services: 3, servers: 7};
    const tall = planDashboard(40, n);
    expect(tall.memChart).toBeGreaterThanOrEqual(8);
    expect(tall.services).toBe(4);
    expect(tall.servers).toBe(9);
    expect(3 + 1 + tall.dropChart + 2 + 1 + tall.memChart + tall.counters).toBeLessThanOrEqual(40);
    expect(3 + 4 + 4 + tall.states + tall.services + tall.servers).toBeLessThanOrEqual(40);
    const short = planDashboard(20, n);
    expect(short.memChart).toBe(0);
    expect(3 + 4 + 4 + short.states + short.services + short.servers).toBeLessThanOrEqual(20);
    for (let h = 12; h <= 80; h++) {
      const p = planDashboard(h, n);
      expect(3 + 1 + p.dropChart + 2 + (p.memChart ? p.memChart + 1 : 0) + p.counters, `left at ${h}`).toBeLessThanOrEqual(Math.max(h, 3 + 1 + 4 + 2 + 2));
      expect(3 + 8 + p.states + p.services + p.servers, `right at ${h}`).toBeLessThanOrEqual(Math.max(h, 3 + 8 + 2));
    }
  });
});
