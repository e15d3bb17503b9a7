// The look of the Connections rows, pinned: the columns of a row (widths, alignment, markers), and
// on screen each table line is exactly its row's text, with the row's colour (templates cyan,
// SYN_RECV red, ESTABLISHED green) and, for the selected row, inverse over its whole width. The
// table is drawn column by column (ColumnTable), so these check that the rows still read and
// look as one line each, as they did when every row was its own <Text color inverse>.
import {describe, expect, test} from 'vitest';
import type {ConnInfo} from '../src/store/backend.js';
import {paint} from '../src/ui/format.js';
import {stripAnsi} from '../src/ui/charts.js';
import {connColsFor, connRowText} from '../components/views/Connections.js';
import {harnessPerTest} from './ui-harness.js';

const start = harnessPerTest();

/** Each visible character of a line with the SGR state it is drawn in. */
function styledChars(line: string): {ch: string; fg: number; inverse: boolean}[] {
  const out: {ch: string; fg: number; inverse: boolean}[] = [];
  let fg = 39, inverse = false;
  for (const m of line.matchAll(/\x1b\[([\d;]*)m|([^\x1b])/gu)) {
    if (m[2] !== undefined) { out.push({ch: m[2], fg, inverse}); continue; }
    for (const code of (m[1] || '0').split(';').map(Number)) {
      if (code === 0) { fg = 39; inverse = false; }
      else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97) || code === 39) fg = code;
      else if (code === 7) inverse = true;
      else if (code === 27) inverse = false;
    }
  }
  return out;
}

const conn = (o: Partial<ConnInfo>): ConnInfo => ({
  id: 1, af: 4, proto: 6, protoName: 'TCP', caddr: 0xc0000201, cport: 40000, vaddr: 0x0a000001, vport: 80,
  daddr: 0x0a01000b, dport: 8080, fwmarkTemplate: false, fwd: 'masq', flags: 0, state: 1, stateName: 'ESTABLISHED',
  template: false, timeout: 900_000, expiresIn: 899_000, inPkts: 12, outPkts: 15_300, destId: 1, control: -1, nControl: 0, fwmark: 0,
  ...o,
});

/** The SGR foreground a row of this state is drawn in (39: the terminal's own). */
const expectedFg = (r: ConnInfo) => (r.template ? 36 : r.stateName === 'SYN_RECV' ? 31 : r.stateName === 'ESTABLISHED' ? 32 : 39);

describe('Connections rows', () => {
  test('a row at 140 columns: marker, protocol, client, virtual, real server, state, expiry and packets in fixed columns', () => {
    const cols = connColsFor(140);
    expect(connRowText(conn({}), false, cols)).toBe(
      '  TCP 192.0.2.1:40000         10.0.0.1:80             10.1.0.11:8080          ESTABLISHED  14:59      12   15.3k');
    expect(connRowText(conn({}), true, cols).startsWith('▸ TCP ')).toBe(true);
    const tpl = conn({template: true, protoName: 'TCP', cport: 0, dport: 443, vport: 443, stateName: 'NONE', expiresIn: 300_000, inPkts: 0, outPkts: 0});
    expect(connRowText(tpl, false, cols)).toBe(
      'T TCP 192.0.2.1:0             10.0.0.1:443            10.1.0.11:443           NONE         05:00       0       0');
    // an address longer than its column is cut with an ellipsis, and the columns stay put
    const v6 = conn({af: 6, caddr: '2001:db8:ffff:ffff::1234', cport: 65535});
    const text = connRowText(v6, false, cols);
    expect(text.slice(6, 6 + 24)).toBe('[2001:db8:ffff:ffff::1… ');
    expect(text).toHaveLength(connRowText(conn({}), false, cols).length);
    // at 80 columns the virtual and packet columns go; at 60 the addresses shrink to 15
    expect(connRowText(conn({}), false, connColsFor(80))).toBe('  TCP 192.0.2.1:40000         10.1.0.11:8080          ESTABLISHED  14:59');
    expect(connRowText(conn({}), false, connColsFor(60))).toBe('  TCP 192.0.2.1:40000 10.1.0.11:8080  ESTABLISHED  14:59');
  });

  test('paint gives the escapes Ink gives <Text color inverse> (colour inside, inverse outside)', () => {
    expect(paint('x', {color: 'red', inverse: true})).toBe('\x1b[7m\x1b[31mx\x1b[39m\x1b[27m');
    expect(paint('x', {color: 'cyan'})).toBe('\x1b[36mx\x1b[39m');
    expect(paint('x', {inverse: true})).toBe('\x1b[7mx\x1b[27m');
    expect(paint('x', {})).toBe('x');
  });

  test('on screen at 140x45 each table line is its row, coloured by state, the selected one inverse end to end', async () => {
    const h = start({cols: 140, rows: 45});
    h.sim.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: 2000});
    h.sim.advance(2000);
    await h.press('3');
    const check = async (what: string) => {
      await h.advance(0);
      const c = h.session.state.conns;
      const cols = connColsFor(140);
      const lines = (h.lastFrame() ?? '').split('\n');
      const head = lines.findIndex((l) => /Pro\s+Client\s+Virtual\s+Real server\s+State\s+Expire\s+InPkt\s+OutPkt/.test(stripAnsi(l)));
      expect(head, what).toBeGreaterThan(0);
      expect(c.rows.length, what).toBeGreaterThan(5);
      const seen = new Set<number>();
      c.rows.forEach((r, i) => {
        const selected = c.offset + i === c.sel;
        const line = lines[head + 1 + i]!;
        const text = connRowText(r, selected, cols);
        expect(stripAnsi(line), `${what}: row ${i}`).toBe(text);
        const cells = styledChars(line);
        expect(cells.map((x) => x.ch).join('')).toBe(text);
        expect(cells.every((x) => x.fg === expectedFg(r)), `${what}: row ${i} colour`).toBe(true);
        expect(cells.every((x) => x.inverse === selected), `${what}: row ${i} inverse`).toBe(true);
        seen.add(expectedFg(r));
      });
      return seen;
    };
    const colours = await check('slot order');
    h.session.setConnFilter('syn_recv');
    (await check('SYN_RECV')).forEach((x) => colours.add(x));
    h.session.setConnFilter('established');
    await h.press('j', 'j', 'j');
    (await check('ESTABLISHED, third row selected')).forEach((x) => colours.add(x));
    h.session.setConnFilter('');
    h.session.cycleTemplates();
    h.session.cycleTemplates();           // templates only
    (await check('templates')).forEach((x) => colours.add(x));
    expect([...colours].sort()).toEqual([31, 32, 36, 39]);
  });

  test('monochrome: rows carry no colour, the selected row is still inverse', async () => {
    const h = start({cols: 140, rows: 45, mono: true});
    await h.press('3', 'j');
    const c = h.session.state.conns;
    const lines = (h.lastFrame() ?? '').split('\n');
    const head = lines.findIndex((l) => stripAnsi(l).includes('Real server'));
    c.rows.forEach((_r, i) => {
      const cells = styledChars(lines[head + 1 + i]!);
      expect(cells.every((x) => x.fg === 39)).toBe(true);
      expect(cells.every((x) => x.inverse === (c.offset + i === c.sel))).toBe(true);
    });
  });
});
