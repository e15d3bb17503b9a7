// `lvsdeck replay FILE.pcap|FILE.pcapng [--config F] [--speed X|--as-fast-as-possible] ...`: feed a
// capture into the engine on the capture's own timestamps and print the same reports as
// `lvsdeck run` (docs/replay.md).
import {readFileSync, statSync} from 'node:fs';
import {stringify} from 'yaml';
import {CaptureError, openCapture} from '../capture/pcap-read.js';
import {DEFAULT_MAX_FRAMES, ReplaySource, type ReplayStats, replayDriver} from '../capture/replay.js';
import {looksLikeIpvsadm} from '../app/config.js';
import {engineSource} from '../metrics/source.js';
import {type ObserveOptions, startCaptureOut, startMetrics} from '../metrics/cli.js';
import {readObserveOptions} from './observe-args.js';
import {MetricsListenError, type MetricsServer} from '../metrics/server.js';
import type {Engine} from '../engine/engine.js';
import {parseScenario} from '../scenario/load.js';
import {runScenario} from '../scenario/runner.js';
import {streamedOutput} from '../scenario/text-stream.js';
import {ScenarioError} from '../scenario/types.js';
import {parseTime} from '../scenario/units.js';
import {progressLine} from './progress.js';
import {intValue, numberValue, type OptionValues, parseCommandArgs, stringValue, unitValue, UsageError} from './args.js';
import {REPLAY_SPEC} from './specs.js';

const DEFAULT_REPORT = 'report:\n  - -Ln --stats\n  - -Lnc\n';

/** The scenario the capture is replayed under: the config file's, or an empty director. */
function loadSetup(path: string | undefined): ReturnType<typeof parseScenario> {
  if (path === undefined) return parseScenario(`name: replay\n${DEFAULT_REPORT}`, 'replay');
  const text = readFileSync(path, 'utf8');
  if (looksLikeIpvsadm(text)) return parseScenario(`${stringify({name: 'replay', rules: text})}${DEFAULT_REPORT}`, path);
  const sc = parseScenario(text, path);
  if (sc.report.length === 0 && !sc.actions.some((a) => a.kind === 'report')) sc.report = parseScenario(DEFAULT_REPORT, path).report;
  return sc;
}

function summary(file: string, s: ReplayStats): string {
  const skipped = Object.entries(s.skipped).map(([why, n]) => `${n} ${why}`).join(', ');
  const span = s.first && s.last ? ` over ${(s.last.sec - s.first.sec + (s.last.nsec - s.first.nsec) / 1e9).toFixed(3)} s` : '';
  return `lvsdeck replay: ${file}: ${s.packets} packets replayed of ${s.frames} frames${span}${skipped ? ` (skipped: ${skipped})` : ''}\n`;
}

export async function run(args: string[]): Promise<number> {
  const fail = (msg: string, code = 2) => {
    process.stderr.write(`lvsdeck replay: ${msg}\n`);
    return code;
  };
  let o: OptionValues, file: string, observe: ObserveOptions;
  let speed: number | null = null, until: number | null = null, maxConns = Infinity, maxFrames = DEFAULT_MAX_FRAMES;
  try {
    const parsed = parseCommandArgs(REPLAY_SPEC, args);
    o = parsed.values;
    file = parsed.positionals[0]!;
    const str = (name: string) => stringValue(o, name);
    if (str('speed') !== undefined) {
      if (o['as-fast-as-possible']) throw new UsageError('--speed and --as-fast-as-possible exclude each other');
      speed = numberValue('speed', str('speed')!, 0, 1e6, true);
    }
    if (str('until') !== undefined) until = unitValue('until', str('until')!, parseTime);
    if (str('max-conns') !== undefined) maxConns = intValue('max-conns', str('max-conns')!, 0, Number.MAX_SAFE_INTEGER);
    if (str('max-packets') !== undefined) maxFrames = intValue('max-packets', str('max-packets')!, 1, Number.MAX_SAFE_INTEGER);
    observe = readObserveOptions(o);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return fail(err.message);
  }
  const config = stringValue(o, 'config');

  let sc;
  try {
    sc = loadSetup(config);
  } catch (err) {
    if (err instanceof ScenarioError) return fail(err.format(config ?? 'replay'), 1);
    return fail(`--config ${config}: ${(err as Error).message}`, 1);
  }

  let size = 0;
  let reader;
  try {
    reader = openCapture(file);
    size = statSync(file).size;
  } catch (err) {
    if (err instanceof CaptureError) return fail(`${file}: ${err.message}`, 1);
    throw err;
  }
  const bar = o['no-progress'] ? null : progressLine(process.stderr, size);
  let finishCapture = () => {};
  let metrics: MetricsServer | null = null;
  try {
    // The engine exists once the run has applied the setup; until then a scrape is refused.
    let engine: Engine | null = null;
    const current = () => {
      if (!engine) throw new Error('the replay has not started yet');
      return engineSource(engine);
    };
    metrics = await startMetrics(() => ({view: () => current().view(), conns: (q) => current().conns(q)}), observe);
    const src = new ReplaySource(reader, {
      maxFrames, keepOutgoing: o['keep-outgoing'] === true,
      ...(bar ? {onProgress: () => bar.update(reader.bytesRead())} : {}),
    });
    // written as the replay goes where it can be (text with --trace, --json --packets, --json --trace)
    const output = streamedOutput({json: o.json === true, trace: o.trace === true, packets: o.packets === true, maxConns});
    const result = await runScenario(sc, {
      until, ...output.options,
      drivers: (ctx) => [replayDriver(src, ctx)],
      onEngine: (e) => {
        engine = e;
        finishCapture = startCaptureOut(e, observe);
      },
      pace: speed === null ? undefined : wallPacer(speed),
    });
    bar?.clear();
    finishCapture();
    process.stderr.write(summary(file, src.stats));
    if (src.stats.packets === 0) return fail(`${file}: no packet the engine can take (unsupported link type, or no IP traffic)`, 1);
    output.finish(result);
    return 0;
  } catch (err) {
    bar?.clear();
    finishCapture();
    if (err instanceof CaptureError) return fail(`${file}: ${err.message}`, 1);
    if (err instanceof ScenarioError) return fail(err.format(config ?? 'replay'), 1);
    if (err instanceof MetricsListenError) return fail(err.message, 2);
    throw err;
  } finally {
    reader.close();
    await metrics?.close();
  }
}

/** Keep virtual time at `speed` times wall time from the first packet on, yielding to I/O meanwhile. */
function wallPacer(speed: number): (t: number) => Promise<void> | void {
  let start: number | null = null;
  let lastYield = 0;
  return (t) => {
    const now = performance.now();
    start ??= now - t / speed;
    const wait = start + t / speed - now;
    if (wait > 1) return new Promise((r) => setTimeout(r, wait));
    if (now - lastYield > 50) {
      lastYield = now;
      return new Promise((r) => setImmediate(r));
    }
  };
}
