// `lvsdeck replay FILE.pcap|FILE.pcapng [--config F] [--speed X|--as-fast-as-possible] ...`: feed a
// capture into the engine on the capture's own timestamps and print the same reports as
// `lvsdeck run` (docs/replay.md).
import {readFileSync, statSync} from 'node:fs';
import {parseArgs} from 'node:util';
import {stringify} from 'yaml';
import {CaptureError, openCapture} from '../capture/pcap-read.js';
import {DEFAULT_MAX_FRAMES, ReplaySource, type ReplayStats, replayDriver} from '../capture/replay.js';
import {looksLikeIpvsadm} from '../app/config.js';
import {engineSource} from '../metrics/source.js';
import {type ObserveOptions, OBSERVE_HELP, startCaptureOut, startMetrics, takeObserveFlag} from '../metrics/cli.js';
import {MetricsListenError, type MetricsServer} from '../metrics/server.js';
import type {Engine} from '../engine/engine.js';
import {parseScenario} from '../scenario/load.js';
import {runJson} from '../scenario/json.js';
import {renderText, runScenario} from '../scenario/runner.js';
import {ScenarioError} from '../scenario/types.js';
import {parseTime} from '../scenario/units.js';
import {progressBar} from './replay-progress.js';

export const usage = 'feed a capture into the engine: FILE.pcap|FILE.pcapng [--config F] [--speed X|--as-fast-as-possible] [--json]';

const HELP = `usage: lvsdeck replay FILE.pcap|FILE.pcapng [options]

Feeds the packets of a capture (pcap or pcapng; Ethernet with VLAN tags, Linux cooked v1/v2,
raw IP, BSD loopback; IPv4/IPv6; TCP, UDP, SCTP, ICMP) into the engine on the capture's own
timestamps, the first packet at virtual time 0, each in the direction a scenario's packets take.
Prints the same reports as lvsdeck run: the config's report: items, else ipvsadm -Ln --stats and
ipvsadm -Lnc at the end. A summary of what was read goes to stderr.

  --config FILE        director setup: a scenario file (sysctl, rules, report, actions...) or an
                       ipvsadm-save file
  --speed X            pace the replay at X times the capture's speed in wall time (with --metrics:
                       watch it live)
  --as-fast-as-possible  no pacing (the default)
  --until TIME         end of the run (virtual time), default: the last packet
  --json               one JSON document (schema lvsdeck.run/1) instead of the report text
  --trace              one line per packet: what the engine did and why
  --packets            with --json: per-packet verdict records
  --max-conns N        with --json: list at most N connection entries
  --max-packets N      refuse captures with more than N packets (default ${DEFAULT_MAX_FRAMES})
  --keep-outgoing      also feed packets the capturing host sent (dropped by default: a director's
                       own transmissions are not its input)
  --no-progress        no progress bar (it is shown on stderr when stderr is a terminal)
${OBSERVE_HELP}`;

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
  const observe: ObserveOptions = {};
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        'config': {type: 'string'}, 'speed': {type: 'string'}, 'as-fast-as-possible': {type: 'boolean'},
        'until': {type: 'string'}, 'json': {type: 'boolean'}, 'trace': {type: 'boolean'}, 'packets': {type: 'boolean'},
        'max-conns': {type: 'string'}, 'max-packets': {type: 'string'}, 'keep-outgoing': {type: 'boolean'},
        'no-progress': {type: 'boolean'}, 'metrics': {type: 'string'}, 'metrics-public': {type: 'boolean'},
        'capture-out': {type: 'string'}, 'help': {type: 'boolean', short: 'h'},
      },
    });
  } catch (err) {
    process.stderr.write(`lvsdeck replay: ${(err as Error).message}\n${HELP}`);
    return 2;
  }
  const o = parsed.values;
  if (o.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const fail = (msg: string, code = 2) => {
    process.stderr.write(`lvsdeck replay: ${msg}\n`);
    return code;
  };
  if (parsed.positionals.length !== 1) return fail(parsed.positionals.length ? `one capture file, got ${parsed.positionals.length}` : `a capture file is needed\n${HELP}`);
  const file = parsed.positionals[0]!;
  let speed: number | null = null, until: number | null = null, maxConns = Infinity, maxFrames = DEFAULT_MAX_FRAMES;
  try {
    if (o.speed !== undefined) {
      if (o['as-fast-as-possible']) throw new Error('--speed and --as-fast-as-possible exclude each other');
      speed = Number(o.speed);
      if (!(speed > 0) || speed > 1e6) throw new Error(`--speed wants 0 < X <= 1000000, got '${o.speed}'`);
    }
    if (o.until !== undefined) until = parseTime(o.until);
    if (o['max-conns'] !== undefined) {
      if (!/^\d+$/.test(o['max-conns'])) throw new Error('--max-conns needs a number');
      maxConns = Number(o['max-conns']);
    }
    if (o['max-packets'] !== undefined) {
      if (!/^\d+$/.test(o['max-packets']) || Number(o['max-packets']) < 1) throw new Error('--max-packets needs a whole number >= 1');
      maxFrames = Number(o['max-packets']);
    }
    for (const flag of ['metrics', 'capture-out'] as const) {
      const v = o[flag];
      if (v !== undefined) takeObserveFlag(`--${flag}`, () => v, observe);
    }
    if (o['metrics-public']) observe.metricsPublic = true;
  } catch (err) {
    return fail((err as Error).message);
  }

  let sc;
  try {
    sc = loadSetup(o.config);
  } catch (err) {
    if (err instanceof ScenarioError) return fail(err.format(o.config ?? 'replay'), 1);
    return fail(`--config ${o.config}: ${(err as Error).message}`, 1);
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
  const bar = !o['no-progress'] && process.stderr.isTTY ? progressBar(process.stderr, size) : null;
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
      maxFrames, keepOutgoing: o['keep-outgoing'],
      ...(bar ? {onProgress: () => bar.update(reader.bytesRead())} : {}),
    });
    const result = await runScenario(sc, {
      until, trace: o.trace, packets: o.packets && o.json,
      drivers: (ctx) => [replayDriver(src, ctx)],
      onEngine: (e) => {
        engine = e;
        finishCapture = startCaptureOut(e, observe);
      },
      pace: speed === null ? undefined : wallPacer(speed),
    });
    bar?.done();
    finishCapture();
    process.stderr.write(summary(file, src.stats));
    if (src.stats.packets === 0) return fail(`${file}: no packet the engine can take (unsupported link type, or no IP traffic)`, 1);
    if (o.json) process.stdout.write(`${JSON.stringify(runJson(result, {trace: !!o.trace, packets: !!o.packets, maxConns}), null, 2)}\n`);
    else process.stdout.write(renderText(result));
    return 0;
  } catch (err) {
    bar?.done();
    finishCapture();
    if (err instanceof CaptureError) return fail(`${file}: ${err.message}`, 1);
    if (err instanceof ScenarioError) return fail(err.format(o.config ?? 'replay'), 1);
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
