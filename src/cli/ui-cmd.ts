// `lvsdeck ui` (also what `lvsdeck` with no command runs): the live terminal UI.
import {attachSyncDaemons, type SyncHostOptions} from '../sim/sync-attach.js';
import {buildDemo, DEMO_MEMORY, demoMemory} from '../demo/default-config.js';
import type {Simulation} from '../sim/simulation.js';
import {parseSize} from '../scenario/units.js';
import {intValue, numberValue, parseCommandArgs, stringValue, unitValue, UsageError} from './args.js';
import {UI_SPEC} from './specs.js';
import {syncHostOptions} from './sync-args.js';
import {type BackendChoice, readBackendChoice} from './backend-args.js';
import {CaptureError, openCapture} from '../capture/pcap-read.js';
import {ReplaySource, scheduleReplay} from '../capture/replay.js';
import {type ObserveOptions, startCaptureOut, startMetrics} from '../metrics/cli.js';
import {readObserveOptions} from './observe-args.js';
import type {MetricsServer} from '../metrics/server.js';
import {simulationSource} from '../metrics/source.js';

export async function run(args: string[]): Promise<number> {
  let config: string | null = null;
  let memory: {totalBytes: number; usedBytes: number} = DEMO_MEMORY;
  let seed = 1, speed = 1, fps = 10;
  let seedGiven = false, memoryGiven = false;
  let mono: boolean, readOnly: boolean, altScreen: boolean;
  let perfFile: string | undefined;
  let sync: SyncHostOptions;
  let quitAfterMs: number | undefined;
  let observe: ObserveOptions, replayFile: string | null;
  let choice: BackendChoice;
  try {
    const {values} = parseCommandArgs(UI_SPEC, args);
    const str = (name: string) => stringValue(values, name);
    choice = readBackendChoice(values);
    config = str('config') ?? null;
    const mem = str('memory');
    if (mem !== undefined && mem !== 'host') { memory = demoMemory(unitValue('memory', mem, parseSize)); memoryGiven = true; }
    if (str('seed') !== undefined) { seed = intValue('seed', str('seed')!, 0, 2 ** 31); seedGiven = true; }
    if (str('speed') !== undefined) speed = numberValue('speed', str('speed')!, 0, 10000, true);
    if (str('fps') !== undefined) fps = intValue('fps', str('fps')!, 1, 30);
    mono = values.mono === true;
    readOnly = values['read-only'] === true;
    altScreen = values['no-alt-screen'] !== true;
    perfFile = str('perf-file');
    if (str('quit-after') !== undefined) quitAfterMs = numberValue('quit-after', str('quit-after')!, 0, 86400) * 1000;
    sync = syncHostOptions(values);
    observe = readObserveOptions(values);
    replayFile = str('replay') ?? null;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`lvsdeck: ${err.message}\n`);
    return 2;
  }
  if (choice.kind === 'kernel') {
    const {openKernelBackend} = await import('../kernel/open.js');
    const k = openKernelBackend({allowWrites: choice.allowWrites && !readOnly});
    if ('error' in k) {
      process.stderr.write(`lvsdeck: ${k.error}\n`);
      return 2;
    }
    process.env.NODE_ENV ??= 'production';
    const {runApp} = await import('../app/run-app.js');
    try {
      return await runApp({sim: null, backend: k.backend, fps, speed, mono: mono || !!process.env.NO_COLOR, altScreen, perfFile,
        quitAfterMs, message: k.message, readOnly: readOnly || !k.backend.allowWrites});
    } finally {
      k.backend.close();
    }
  }
  let message: string | undefined;
  let sim: Simulation;
  if (config !== null) {
    const {loadConfig} = await import('../app/config.js');
    try {
      const c = loadConfig(config, {seed, memory, seedGiven, memoryGiven});
      sim = c.sim;
      message = c.notes.join('; ');
    } catch (err) {
      process.stderr.write(`lvsdeck: ${(err as Error).message}\n`);
      return 2;
    }
  } else sim = buildDemo(seed, memory);
  try {
    await attachSyncDaemons(sim, sync);
  } catch (err) {
    process.stderr.write(`lvsdeck: sync: ${(err as Error).message}\n`);
    return 2;
  }
  let clock, makeBackend, stopDataplane = () => {};
  if (choice.kind === 'dataplane') {
    const {startDataplaneForCli} = await import('../dataplane/cli.js');
    const started = startDataplaneForCli(sim, {dev: choice.dev, hostMemory: choice.hostMemory});
    if (!started) return 1;
    clock = started.clock;
    stopDataplane = started.stop;
    makeBackend = started.makeBackend;
    message = [message, started.message].filter(Boolean).join('; ');
  }
  let replay: {readonly error: string | null} | null = null;
  let metrics: MetricsServer | null = null;
  let finishCapture = () => {};
  try {
    if (replayFile !== null) {
      const file = replayFile;
      replay = scheduleReplay(sim, new ReplaySource(openCapture(file)));
      message = [message, `replaying ${file}`].filter(Boolean).join('; ');
    }
    metrics = await startMetrics(() => simulationSource(sim), observe);
    finishCapture = startCaptureOut(sim.engine, observe);
  } catch (err) {
    await metrics?.close();
    stopDataplane();
    process.stderr.write(`lvsdeck: ${err instanceof CaptureError ? `--replay ${replayFile}: ` : ''}${(err as Error).message}\n`);
    return 2;
  }
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') mono = true;
  // React's production build: ~5-10 points less CPU and ~100 MB less memory (docs/tui-stack.md, "Rendering cost").
  // Set before React, Ink and the components load (run-app is imported below, not at the top).
  process.env.NODE_ENV ??= 'production';
  const {runApp} = await import('../app/run-app.js');
  try {
    return await runApp({sim, fps, speed, mono, readOnly, altScreen, perfFile, quitAfterMs, message, clock, makeBackend});
  } finally {
    finishCapture();
    await metrics?.close();
    if (replay?.error) process.stderr.write(`lvsdeck: --replay ${replayFile}: stopped: ${replay.error}\n`);
    stopDataplane();
  }
}
