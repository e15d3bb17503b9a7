// Shared setup for the UI tests: the demo simulation driven by hand (no timers), one session,
// the App rendered by ink-testing-library, and helpers to press keys and read the screen.
import {render} from 'ink-testing-library';
import {afterEach} from 'vitest';
import {buildDemo, DEMO_MEMORY} from '../src/demo/default-config.js';
import {AuditLog} from '../src/store/actions.js';
import {LocalBackend, ManualClock} from '../src/store/backend.js';
import {UiSession} from '../src/store/session.js';
import {stripAnsi} from '../src/ui/charts.js';
import {App} from '../components/App.js';

export const KEYS = {
  up: '\u001B[A', down: '\u001B[B', pgdn: '\u001B[6~', pgup: '\u001B[5~', enter: '\r', esc: '\u001B', tab: '\t',
  shiftTab: '\u001B[Z', backspace: '\u007F', ctrlC: '\u0003', home: '\u001B[H', end: '\u001B[F',
};

export const tick = (ms = 15) => new Promise((r) => setTimeout(r, ms));

export function setup(o: {cols?: number; rows?: number; readOnly?: boolean; mono?: boolean; warm?: number; seed?: number} = {}) {
  const sim = buildDemo(o.seed ?? 1, DEMO_MEMORY);
  if (o.warm !== 0) sim.runUntil(o.warm ?? 10_000);
  const clock = new ManualClock(sim);
  const backend = new LocalBackend(sim, clock);
  const audit = new AuditLog();
  const session = new UiSession({backend, audit, readOnly: o.readOnly, mono: o.mono, size: {cols: o.cols ?? 100, rows: o.rows ?? 32}, user: 'tester'});
  const r = render(<App session={session} />);
  if (o.cols) {
    // ink-testing-library's stdout is 100 columns wide: widen it as a terminal resize would
    Object.defineProperty(r.stdout, 'columns', {get: () => o.cols});
    r.stdout.emit('resize');
  }
  const screen = () => stripAnsi(r.lastFrame() ?? '');
  /** Type keys one write at a time and let Ink re-render. */
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      r.stdin.write(k);
      await tick(k === KEYS.esc ? 30 : 10);
    }
    await tick();
  };
  /** Advance virtual time and publish, like the wall-clock loop and the 10 Hz publisher would. */
  const advance = async (ms: number) => {
    sim.advance(ms);
    session.refresh();
    await tick();
  };
  return {sim, clock, backend, audit, session, ...r, screen, press, advance};
}

/** A setup() for a test file that unmounts the last app after each test. */
export function harnessPerTest() {
  let cleanup: (() => void) | null = null;
  afterEach(() => { cleanup?.(); cleanup = null; });
  return (o: Parameters<typeof setup>[0] = {}) => {
    const h = setup(o);
    cleanup = h.unmount;
    return h;
  };
}
