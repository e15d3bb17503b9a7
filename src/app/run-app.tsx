// Start the live UI over a simulation: terminal guard, wall clock, one session, Ink.
import {render} from 'ink';
import {createElement} from 'react';
import type {Simulation} from '../sim/simulation.js';
import {AuditLog} from '../store/actions.js';
import {type Backend, type ClockControl, LocalBackend} from '../store/backend.js';
import {UiSession} from '../store/session.js';
import {App} from '../../components/App.js';
import {SimClock} from './clock.js';
import {setupTerminal} from '../ui/terminal.js';
import {guardInkInput} from '../ui/ink-input-guard.js';
// Ink's output stage keeps its measurements across frames (every Ink instance of the process)
import '../ui/ink-output-cache.js';

export interface RunAppOptions {
  /** The simulation to run on wall-clock time, or null when `backend` drives something real (--kernel). */
  sim: Simulation | null;
  /** A backend that is not a simulation on this thread (--kernel); `sim` is then null. */
  backend?: Backend;
  fps: number;
  speed: number;
  mono: boolean;
  readOnly: boolean;
  altScreen: boolean;
  user?: string;
  /** Write a one-line JSON performance summary to this file at exit (CPU, frame costs). */
  perfFile?: string;
  /** Quit by itself after this many wall ms (benchmarks). */
  quitAfterMs?: number;
  /** Startup message. */
  message?: string;
  /** The clock driving the engine (default: virtual time at `speed`); real mode passes its wall clock. */
  clock?: AppClock;
  /** The backend over the simulation (default LocalBackend); real mode passes the data plane's. */
  makeBackend?: (sim: Simulation, clock: ClockControl) => LocalBackend;
}

/** What the app needs of a clock: the UI's controls plus its own loop. */
export type AppClock = ClockControl & {start(): void; stop(): void; tick(): void; lastTickMs: number};

export async function runApp(o: RunAppOptions): Promise<number> {
  const stdout = process.stdout;
  if (!stdout.isTTY || !process.stdin.isTTY) {
    process.stderr.write('lvsdeck: the live UI needs a terminal (try `lvsdeck demo` for a headless run)\n');
    return 2;
  }
  const clock: AppClock | null = o.clock ?? (o.sim ? new SimClock(o.sim, {speed: o.speed}) : null);
  const backend = o.backend ?? (o.makeBackend ? o.makeBackend(o.sim!, clock!) : new LocalBackend(o.sim!, clock!));
  const audit = new AuditLog();
  const session = new UiSession({
    backend, audit, user: o.user ?? process.env.USER ?? 'local', readOnly: o.readOnly, mono: o.mono,
    size: {cols: stdout.columns || 80, rows: stdout.rows || 24},
  });
  if (o.message) session.say(o.message, 'info');
  const guard = setupTerminal({altScreen: o.altScreen, onSignal: () => { clock?.stop(); session.stop(); }});
  const inputGuard = guardInkInput(process.stdin);
  const perf = {frames: 0, renderMs: 0, refreshMs: 0, refreshes: 0, simMs: 0, ticks: 0};
  const instance = render(<App session={session} />, {
    stdout, stdin: process.stdin, exitOnCtrlC: true, patchConsole: true, maxFps: inkMaxFps(o.fps), incrementalRendering: false,
    onRender: (m) => { perf.frames++; perf.renderMs += m.renderTime; },
  });
  clock?.start();
  session.start(o.fps);
  // performance figures skip the first 3 s (module loading, JIT warm-up, first full frames)
  let cpu0 = process.cpuUsage();
  let wall0 = performance.now();
  const warm = setTimeout(() => {
    cpu0 = process.cpuUsage();
    wall0 = performance.now();
    Object.assign(perf, {frames: 0, renderMs: 0, refreshMs: 0, refreshes: 0, simMs: 0, ticks: 0});
    publishes = 0;
  }, o.perfFile ? 3000 : 0);
  // wrap the loops to measure their cost
  let publishes = 0;
  session.store.subscribe(() => { publishes++; });
  const origRefresh = session.refresh.bind(session);
  session.refresh = (force?: boolean) => { origRefresh(force); perf.refreshMs += session.lastRefreshMs; perf.refreshes++; };
  if (clock) {
    const origTick = clock.tick.bind(clock);
    clock.tick = () => { origTick(); perf.simMs += clock.lastTickMs; perf.ticks++; };
  }
  let quitTimer: ReturnType<typeof setTimeout> | undefined;
  if (o.quitAfterMs) quitTimer = setTimeout(() => session.requestQuit(), o.quitAfterMs);
  try {
    await instance.waitUntilExit();
  } finally {
    if (quitTimer) clearTimeout(quitTimer);
    clearTimeout(warm);
    clock?.stop();
    session.stop();
    instance.cleanup();
    inputGuard.release();
    guard.restore();
  }
  if (o.perfFile) {
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - wall0;
    const {writeFileSync} = await import('node:fs');
    writeFileSync(o.perfFile, JSON.stringify({
      wallMs: Math.round(wall), cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wall) * 1000) / 10,
      frames: perf.frames, storeUpdates: publishes, refreshes: perf.refreshes, effectiveSpeed: backend.clock().effective, inkRenderMsAvg: perf.frames ? perf.renderMs / perf.frames : 0,
      refreshMsAvg: perf.refreshes ? perf.refreshMs / perf.refreshes : 0, simMsAvg: perf.ticks ? perf.simMs / perf.ticks : 0,
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20), fps: o.fps, cols: stdout.columns, rows: stdout.rows, nodeEnv: process.env.NODE_ENV,
      reactDevBuild: '_store' in (createElement('i') as object),
    }) + '\n');
  }
  return 0;
}

/**
 * Ink's frame throttle. The store publishes at most `fps` times a second, so Ink never draws more
 * often than that; a higher throttle only lets a keypress's frame out sooner (within ~1/30 s
 * instead of up to 1/fps s) at no extra cost while nothing is typed.
 */
export function inkMaxFps(fps: number): number {
  return Math.min(30, Math.max(fps, fps * 3));
}
