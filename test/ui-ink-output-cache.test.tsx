// Ink's output caches kept across frames (src/ui/ink-output-cache.ts) change nothing on screen:
// two identical demos (same seed) drawn side by side, one with the shared caches and one without,
// give the same frames, colours included, frame after frame in every view; the caches hold what
// recent frames used and stay bounded.
import {vi} from 'vitest';

// colours on (chalk reads this once, when Ink first loads), as in a terminal
vi.hoisted(() => { process.env.FORCE_COLOR = '1'; });

import {render} from 'ink-testing-library';
import {describe, expect, test} from 'vitest';
import {buildDemo, DEMO_MEMORY} from '../src/demo/default-config.js';
import {AuditLog} from '../src/store/actions.js';
import {LocalBackend, ManualClock} from '../src/store/backend.js';
import {UiSession, VIEWS} from '../src/store/session.js';
import {inkOutputCacheLines, RecentMap, setInkOutputCache} from '../src/ui/ink-output-cache.js';
import {App} from '../components/App.js';

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

function demo() {
  const sim = buildDemo(1, DEMO_MEMORY);
  sim.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: 2000});
  const session = new UiSession({backend: new LocalBackend(sim, new ManualClock(sim)), audit: new AuditLog(), size: {cols: 100, rows: 32}});
  const r = render(<App session={session} />);
  return {sim, session, r};
}

describe('Ink output caches shared across frames', () => {
  test('RecentMap keeps the current and the previous generation, bounded by characters', () => {
    const m = new RecentMap<number>(10);
    m.set('aaaa', 1);
    m.set('bbbb', 2);
    m.set('cccc', 3); // 12 characters: a new generation starts with this key
    expect(m.get('cccc')).toBe(3);
    expect(m.get('aaaa')).toBe(1); // from the previous generation, moved to the current one
    m.set('dddd', 4);
    m.set('eeee', 5); // another generation: bbbb was not used in the last one
    expect(m.get('bbbb')).toBeUndefined();
    expect(m.get('dddd')).toBe(4);
  });

  test('every view, frame after frame, draws the same with and without them', async () => {
    const cached = demo(), plain = demo();
    let frames = 0;
    for (const view of VIEWS.map((v) => v.id).filter((v) => v !== 'audit')) {
      for (const h of [cached, plain]) h.session.setView(view);
      for (let i = 0; i < 4; i++) {
        for (const [h, on] of [[cached, true], [plain, false]] as const) {
          setInkOutputCache(on);
          h.sim.advance(1000);
          // the table is re-queried at most so often in wall time: ask for it every frame here
          (h.session as unknown as {connsDirty: boolean}).connsDirty = true;
          h.session.refresh(true);
          await tick();
        }
        // the Connections title shows each session's own (wall-clock) query time
        const norm = (f: string) => f.replace(/query [\d.]+ ms/, 'query - ms');
        const a = norm(cached.r.lastFrame() ?? ''), b = norm(plain.r.lastFrame() ?? '');
        expect(a.length).toBeGreaterThan(500);
        expect(a).toMatch(/\x1b\[3\dm/);
        expect(a.split('\n')).toEqual(b.split('\n'));
        frames++;
      }
    }
    setInkOutputCache(true);
    expect(frames).toBeGreaterThanOrEqual(24);
    expect(inkOutputCacheLines()).toBeGreaterThan(50);
    cached.r.unmount();
    plain.r.unmount();
  });
});
