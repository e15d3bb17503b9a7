// The Dashboard's look, pinned against the drawing it replaced: its charts, sparklines and bars are
// pre-painted lines shown through Ink's <Transform> (components/widgets.tsx, PaintedLines) instead
// of <Text> nodes Ink measures character by character. The component as it was before that change
// is kept in bench/baseline/DashboardPanels.tsx; both draw the same session here and every frame,
// colours included, must be the same bytes: at several terminal sizes, in colour and in
// monochrome, quiet and under a SYN flood with the defenses engaged, a real server down and one
// quiesced.
import {vi} from 'vitest';

// colours on (chalk reads this once, when Ink first loads), as in a terminal
vi.hoisted(() => { process.env.FORCE_COLOR = '1'; });

import {Box} from 'ink';
import {render} from 'ink-testing-library';
import {describe, expect, test} from 'vitest';
import {buildDemo, DEMO_MEMORY} from '../src/demo/default-config.js';
import {parseAddr} from '../src/engine/addr.js';
import {AuditLog} from '../src/store/actions.js';
import {LocalBackend, ManualClock} from '../src/store/backend.js';
import {layout} from '../src/store/layout.js';
import {UiSession} from '../src/store/session.js';
import {SessionContext} from '../components/context.js';
import {Dashboard} from '../components/views/Dashboard.js';
import {DashboardPanels} from '../bench/baseline/DashboardPanels.js';

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

/** The demo after `seconds` virtual seconds, published once a second so every history ring fills. */
function session(o: {cols: number; rows: number; mono?: boolean; flood?: boolean; seconds?: number}) {
  const sim = buildDemo(1, DEMO_MEMORY);
  const backend = new LocalBackend(sim, new ManualClock(sim));
  const s = new UiSession({backend, audit: new AuditLog(), mono: o.mono, size: {cols: o.cols, rows: o.rows}});
  if (o.flood) {
    sim.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: 4000});
    backend.apply({op: 'set-tunable', name: 'drop_entry', value: '1'});
    backend.apply({op: 'server-failed', rs: '10.1.0.12:8080', failed: true});
    const vip = parseAddr('10.0.0.1')!, rs = parseAddr('10.1.0.13')!;
    backend.apply({op: 'edit-dest', key: {kind: 'addr', af: vip.af, proto: 'tcp', addr: vip.addr, port: 80}, addr: rs.addr, port: 8080, opts: {weight: 0}});
  }
  for (let i = 0; i < (o.seconds ?? 40); i++) {
    sim.advance(1000);
    s.refresh(true);
  }
  return s;
}

/** The frame of one Dashboard component over the session, as the App lays it out. */
async function frame(s: UiSession, View: typeof Dashboard): Promise<string> {
  const l = layout(s.state.size);
  const r = render(
    <SessionContext.Provider value={s}>
      <Box width={l.cols} height={l.body} flexDirection="column"><View width={l.cols} height={l.body} /></Box>
    </SessionContext.Provider>,
  );
  Object.defineProperty(r.stdout, 'columns', {get: () => l.cols});
  r.stdout.emit('resize');
  await tick();
  const f = r.lastFrame() ?? '';
  r.unmount();
  return f;
}

describe('Dashboard drawn with pre-painted lines looks as before', () => {
  const cases = [
    {cols: 140, rows: 45}, {cols: 140, rows: 45, flood: true}, {cols: 140, rows: 45, flood: true, mono: true},
    {cols: 100, rows: 32, flood: true}, {cols: 80, rows: 24, flood: true}, {cols: 60, rows: 20, flood: true},
    {cols: 200, rows: 60, flood: true, seconds: 150},
  ];
  for (const c of cases) {
    test(`${c.cols}x${c.rows}${c.flood ? ', SYN flood, a server down, one quiesced' : ', quiet'}${c.mono ? ', monochrome' : ''}`, async () => {
      const s = session(c);
      const before = await frame(s, DashboardPanels);
      const now = await frame(s, Dashboard);
      // the frame is a real drawing: colours (unless mono), braille from the charts, the panels
      expect(before).toContain('Drops per virtual second');
      expect(/[\u2801-\u28ff]/.test(before)).toBe(true);
      expect(/\x1b\[3\dm/.test(before)).toBe(!c.mono);
      // the failed server's row in the top servers is red (its label is cut before " DOWN" at this width)
      if (c.flood && c.rows >= 32 && !c.mono) expect(before).toMatch(/\x1b\[31m10\.1\.0\.12:80/);
      expect(now.split('\n')).toEqual(before.split('\n'));
    });
  }
});
