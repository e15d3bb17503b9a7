// The key paths: tunable edits (rejected and accepted), defenses by keypress, real-server actions,
// the connection filter, sort and details, the attack menu, the command bar and --read-only.
import {describe, expect, test} from 'vitest';
import {KEYS, harnessPerTest} from './ui-harness.js';

const start = harnessPerTest();

/** The Services row of a real server. */
const rsLine = (s: string, rs: string) => s.split('\n').find((l) => l.includes(`-> ${rs}`)) ?? '';

describe('tunables', () => {
  test('an invalid value shows the handler error and keeps the old value; a valid one is written', async () => {
    const h = start();
    await h.press('4');
    // select drop_entry (the list is alphabetical: drop_entry is the 8th)
    for (let i = 0; i < 7; i++) await h.press('j');
    expect(h.screen()).toMatch(/▸\*drop_entry\s+1\s+0/);
    await h.press(KEYS.enter);
    expect(h.screen()).toMatch(/drop_entry = 1/);        // the edit line, prefilled with the value
    await h.press(KEYS.backspace, '7', KEYS.enter);
    let s = h.screen();
    expect(s).toMatch(/✗ drop_entry: invalid value '7': .*\(EINVAL\)/);
    expect(s).toMatch(/value kept: 1/);
    expect(s).toMatch(/drop_entry\s+1\s+0/);
    expect(h.backend.snapshot().defense.drop_entry.mode).toBe(1);
    // a non-number is rejected by proc_do_defense_mode's parser as well
    await h.press(KEYS.enter, KEYS.backspace, 'x', 'y', KEYS.enter);
    expect(h.screen()).toMatch(/✗ drop_entry: invalid value 'xy'/);
    await h.press(KEYS.enter, KEYS.backspace, '3', KEYS.enter);
    s = h.screen();
    expect(s).toMatch(/✓ drop_entry = 3/);
    expect(s).toMatch(/drop_entry\s+3\s+0/);
    expect(h.backend.snapshot().defense.drop_entry.mode).toBe(3);
    // Esc cancels an edit without writing
    await h.press(KEYS.enter, KEYS.backspace, '0', KEYS.esc);
    expect(h.backend.snapshot().defense.drop_entry.mode).toBe(3);
  });

  test('values that differ from the kernel default are marked; debug_level with +/-', async () => {
    const h = start();
    await h.press('4');
    expect(h.screen()).toMatch(/ {2}debug_level\s+0\s+0/);
    await h.press('+', '+', '+');
    expect(h.screen()).toMatch(/\*debug_level\s+3\s+0/);
    await h.press('-');
    expect(h.screen()).toMatch(/\*debug_level\s+2\s+0/);
  });
});

describe('defenses by keypress', () => {
  test('e, p and s cycle the modes and the badge follows at once', async () => {
    const h = start();
    expect(h.screen()).toMatch(/entry:armed/);
    await h.press('e');
    expect(h.screen()).toMatch(/entry:always/);
    await h.press('e');
    expect(h.screen()).toMatch(/entry:off/);
    expect(h.backend.snapshot().defense.drop_entry.mode).toBe(0);
    await h.press('p');
    expect(h.screen()).toMatch(/packet:always/);
    await h.press('s', 's');
    expect(h.screen()).toMatch(/secure:off/);
    await h.press('s');
    expect(h.screen()).toMatch(/secure:armed/);
  });

  test('an armed defense goes ACTIVE when the engine flips it (SYN flood below amemthresh)', async () => {
    const h = start();
    await h.press('a');
    expect(h.screen()).toMatch(/▸ synflood\s+10\.0\.0\.1:80\s+5,000\s+not started/);
    await h.press(KEYS.enter);
    expect(h.screen()).toMatch(/synflood\s+10\.0\.0\.1:80\s+5,000\s+RUNNING/);
    await h.press(KEYS.esc);
    const before = h.backend.snapshot().conns;
    await h.advance(4000);
    const mid = h.backend.snapshot().conns;
    expect(mid).toBeGreaterThan(before + 15000);              // conns rise
    expect(h.screen()).toMatch(/conns [\d.]+k/);
    expect(h.screen()).toMatch(/entry:armed/);
    for (let i = 0; i < 24 && !(/entry:ACTIVE/.test(h.screen()) && h.screen().includes('BELOW THRESHOLD')); i++) await h.advance(1000);
    const s = h.screen();
    expect(s).toMatch(/entry:ACTIVE/);
    expect(s).toMatch(/packet:ACTIVE/);
    expect(s).toMatch(/secure:ACTIVE/);
    expect(s).toContain('BELOW THRESHOLD');
    // memory fell below the threshold
    const m = h.backend.snapshot().memory;
    expect(m.availablePages).toBeLessThan(m.amemthresh);
  });
});

describe('services', () => {
  test('quiesce, restore, weight +/- act on the selected real server', async () => {
    const h = start();
    await h.press('2', 'j');                     // first real server of 10.0.0.1:80 (newest first: .13)
    expect(rsLine(h.screen(), '10.1.0.13:8080')).toMatch(/^▸/);
    await h.press('z');
    expect(rsLine(h.screen(), '10.1.0.13:8080')).toMatch(/Masq\s+0 Q/);
    expect(h.backend.snapshot().services[0]!.dests.find((d) => d.label === '10.1.0.13:8080')!.weight).toBe(0);
    // no new connections go to a quiesced server
    const conns0 = h.backend.snapshot().services[0]!.dests.find((d) => d.label === '10.1.0.13:8080')!.stats.conns;
    await h.advance(3000);
    expect(h.backend.snapshot().services[0]!.dests.find((d) => d.label === '10.1.0.13:8080')!.stats.conns).toBe(conns0);
    await h.press('r');
    expect(rsLine(h.screen(), '10.1.0.13:8080')).toMatch(/Masq\s+1\s/);
    await h.press('+', '+');
    expect(rsLine(h.screen(), '10.1.0.13:8080')).toMatch(/Masq\s+3\s/);
    await h.press('-');
    expect(rsLine(h.screen(), '10.1.0.13:8080')).toMatch(/Masq\s+2\s/);
    expect(h.screen()).toContain('ipvsadm -e -t 10.0.0.1:80 -r 10.1.0.13:8080 -m -w 2');
  });

  test('delete asks first; n keeps it, y deletes it', async () => {
    const h = start();
    await h.press('2', 'j', 'd');
    expect(h.screen()).toContain('Delete real server 10.1.0.13:8080 from -t 10.0.0.1:80?');
    await h.press('n');
    expect(h.screen()).toContain('-> 10.1.0.13:8080');
    await h.press('d', 'y');
    expect(h.screen()).not.toContain('-> 10.1.0.13:8080');
    expect(h.screen()).toMatch(/Services: 3 virtual, 6 real servers/);
  });

  test('add a real server through the form; a bad value keeps the form open with the error', async () => {
    const h = start();
    await h.press('2', 'n');
    expect(h.screen()).toContain('Add real server to -t 10.0.0.1:80');
    await h.press('999.1.1.1:80', KEYS.enter);
    expect(h.screen()).toMatch(/✗ ipvsadm: illegal real server address\[:port\] specified/);
    await h.press('\u0015', '10.1.0.14:8080', KEYS.tab, KEYS.tab);
    await h.press(KEYS.backspace, '4', KEYS.enter);
    const s = h.screen();
    expect(s).toMatch(/-> 10\.1\.0\.14:8080\s+Masq\s+4/);
    expect(s).toMatch(/Services: 3 virtual, 8 real servers/);
  });

  test('edit a service through the form (Enter on a service row)', async () => {
    const h = start();
    await h.press('2', KEYS.enter);
    expect(h.screen()).toContain('Edit service -t 10.0.0.1:80');
    for (let i = 0; i < 3; i++) await h.press(KEYS.backspace);
    await h.press('rr', KEYS.enter);
    expect(h.screen()).toMatch(/TCP 10\.0\.0\.1:80\s+rr/);
  });
});

const tableRows = (s: string) => s.split('\n').filter((l) => /^[▸T ] (TCP|UDP)/.test(l));
const CTRL_U = '\u0015';

describe('connections', () => {
  test('/ filters by address and by state', async () => {
    const h = start();
    await h.press('3');
    const total = Number(/Connections ([\d,]+)/.exec(h.screen())![1]!.replace(/,/g, ''));
    await h.press('/', '10.1.0.11', KEYS.enter);
    let s = h.screen();
    expect(s).toContain('filter "10.1.0.11"');
    const n = Number(/Connections ([\d,]+)/.exec(s)![1]!.replace(/,/g, ''));
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(total);
    expect(tableRows(s).length).toBeGreaterThan(3);
    for (const r of tableRows(s)) expect(r).toContain('10.1.0.11:8080');
    await h.press('/', CTRL_U, 'time_wait', KEYS.enter);
    s = h.screen();
    expect(tableRows(s).length).toBeGreaterThan(0);
    for (const r of tableRows(s)) expect(r).toMatch(/TIME_WAIT/);
    await h.press('/', CTRL_U, 'nothing-matches-this', KEYS.enter);
    expect(h.screen()).toMatch(/Connections 0 /);
    expect(h.screen()).toContain('no entry matches the filter');
  });

  test('single-key sort (again reverses), paging, templates, Enter opens the details', async () => {
    const h = start();
    await h.press('3', 'E');
    let s = h.screen();
    expect(s).toContain('sort expires ↑');
    const exp = (rows: string[]) => rows.map((r) => {
      const m = /(\d\d):(\d\d)\s+\S+\s+\S+\s*$/.exec(r)!;
      return Number(m[1]) * 60 + Number(m[2]);
    });
    let e = exp(tableRows(s));
    expect(e).toEqual([...e].sort((a, b) => a - b));
    await h.press('E');
    s = h.screen();
    expect(s).toContain('sort expires ↓');
    e = exp(tableRows(s));
    expect(e).toEqual([...e].sort((a, b) => b - a));
    // paging
    const page = tableRows(s).length;
    await h.press(KEYS.pgdn);
    expect(h.screen()).toMatch(new RegExp(`rows ${page + 1}-${2 * page}`));
    await h.press('G');
    const total = /Connections ([\d,]+)/.exec(h.screen())![1]!;
    expect(h.screen()).toMatch(new RegExp(`rows [\\d,]+-${total}`));
    await h.press('g');
    expect(h.screen()).toMatch(/rows 1-/);
    // templates only: every row is marked T
    await h.press('t', 't');
    s = h.screen();
    expect(s).toContain('templates only');
    expect(tableRows(s).length).toBeGreaterThan(0);
    for (const r of tableRows(s).slice(1)) expect(r).toMatch(/^T /);
    await h.press(KEYS.enter);
    s = h.screen();
    expect(s).toContain('Connection entry (Esc closes)');
    expect(s).toMatch(/State\s+ASSURED \(persistence template\)/);
    expect(s).toMatch(/Flags\s+0x[0-9a-f]+\s+.*TEMPLATE/);
    expect(s).toMatch(/Timer\s+timeout \d+ s, expires in \d\d:\d\d/);
    expect(s).toMatch(/Controls\s+\d+ entries/);
    await h.press(KEYS.esc);
    expect(h.screen()).not.toContain('Connection entry');
  });
});

describe('command bar', () => {
  test('ipvsadm syntax adds a real server; errors are shown; history with up', async () => {
    const h = start();
    await h.press('2', ':', '-a -t 10.0.0.1:80 -r 10.1.0.14:8080 -m -w 2', KEYS.enter);
    expect(h.screen()).toMatch(/-> 10\.1\.0\.14:8080\s+Masq\s+2/);
    await h.press(':', '-a -t 10.0.0.1:80 -r 10.1.0.14:8080 -m -w 2', KEYS.enter);
    expect(h.screen()).toMatch(/✗ ipvsadm -a -t 10\.0\.0\.1:80 -r 10\.1\.0\.14:8080 -m -w 2: destination already exists/);
    await h.press(':', KEYS.up);
    expect(h.screen()).toContain(':-a -t 10.0.0.1:80 -r 10.1.0.14:8080 -m -w 2');
    await h.press(KEYS.esc);
    await h.press(':', 'sysctl -w net.ipv4.vs.am_droprate=20', KEYS.enter);
    expect(h.backend.tunables().find((t) => t.name === 'am_droprate')!.value).toBe('20');
    await h.press(':', 'sysctl -w net.ipv4.vs.sync_version=5', KEYS.enter);
    expect(h.screen()).toMatch(/✗ sync_version: invalid value '5'/);
    await h.press(':', 'attack synflood 10.0.0.1:80 800', KEYS.enter);
    expect(h.backend.generators().find((g) => g.kind === 'synflood')?.rate).toBe(800);
    await h.press(':', 'attack stop synflood', KEYS.enter);
    expect(h.backend.generators().find((g) => g.kind === 'synflood')?.running).toBe(false);
    await h.press(':', 'bogus', KEYS.enter);
    expect(h.screen()).toMatch(/✗ unknown command 'bogus'/);
  });

  test('space pauses, < and > change the speed', async () => {
    const h = start();
    await h.press(' ');
    expect(h.screen()).toContain('⏸ PAUSED');
    await h.press(' ', '>', '>');
    expect(h.screen()).toMatch(/▶ ×5/);
    await h.press('<', '<', '<');
    expect(h.screen()).toMatch(/▶ ×0\.5/);
  });
});

describe('read-only', () => {
  test('every change is refused and the session says so', async () => {
    const h = start({readOnly: true});
    expect(h.screen()).toContain('[read-only]');
    await h.press('e');
    expect(h.screen()).toMatch(/read-only session: "sysctl -w net\.ipv4\.vs\.drop_entry=3" is disabled/);
    expect(h.backend.snapshot().defense.drop_entry.mode).toBe(1);
    await h.press('2', 'j', 'z');
    expect(h.screen()).toMatch(/read-only session: "ipvsadm -e/);
    expect(rsLine(h.screen(), '10.1.0.13:8080')).toMatch(/Masq\s+1\s/);
    expect(h.audit.list().length).toBe(0);
  });
});

describe('quit', () => {
  test('q ends the app', async () => {
    const h = start();
    let exited = false;
    void h.session.store.subscribe((s) => { if (s.quitRequested) exited = true; });
    await h.press('q');
    expect(exited).toBe(true);
  });
});
