// Replay throughput: a SYN flood with clients captured with --capture-out (pcap and pcapng), then
// packets per second of reading the file alone (records and link/IP decoding, no engine) against
// replaying it into the engine through the scenario runner, as `lvsdeck replay` does. The reading
// figure of the same format, same file, same run is each replay figure's baseline.
import {mkdtempSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {decodeFrame} from '../src/capture/decode.js';
import {openCapture} from '../src/capture/pcap-read.js';
import {ReplaySource, replayDriver} from '../src/capture/replay.js';
import {captureOut} from '../src/capture/tap.js';
import {emptyPacket} from '../src/engine/packet.js';
import {parseScenario} from '../src/scenario/load.js';
import {runScenario} from '../src/scenario/runner.js';
import {type BenchFigure, spread, spreadFigure} from './common.js';

const SETUP = `seed: 3
memory: {total: 256MiB, used: 200MiB}
sysctl:
  drop_entry: 1
rules: |
  -A -t 10.0.0.1:80 -s wlc
  -a -t 10.0.0.1:80 -r 10.1.0.11:8080 -m -w 3
  -a -t 10.0.0.1:80 -r 10.1.0.12:8080 -m -w 2
report:
  - -Ln --stats
`;
const FLOOD = `${SETUP}until: 12s
traffic:
  - {at: 0s, kind: clients, to: 10.0.0.1:80, rate: 200, from: 192.0.2.0/24}
  - {at: 1s, for: 10s, kind: synflood, to: 10.0.0.1:80, rate: 20000, from: 198.18.0.0/15}
`;
const REPEATS = 3;

function readAlone(file: string): number {
  const r = openCapture(file);
  const p = emptyPacket();
  let n = 0;
  for (let rec = r.next(); rec; rec = r.next()) if (decodeFrame(rec.linkType, rec.data, rec.origLen, p, rec.direction) === null) n++;
  r.close();
  return n;
}

async function replay(file: string): Promise<number> {
  const reader = openCapture(file);
  const src = new ReplaySource(reader);
  await runScenario(parseScenario(SETUP, 'bench'), {drivers: (ctx) => [replayDriver(src, ctx)]});
  reader.close();
  return src.stats.packets;
}

async function timed(fn: () => number | Promise<number>): Promise<number[]> {
  const rates: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    const n = await fn();
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  return rates;
}

export async function runReplayBench(log: (s: string) => void = () => {}): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-bench-replay-'));
  const figures: BenchFigure[] = [];
  try {
    for (const ext of ['pcap', 'pcapng']) {
      const file = join(dir, `flood.${ext}`);
      let cap: ReturnType<typeof captureOut> | null = null;
      await runScenario(parseScenario(FLOOD, 'bench'), {onEngine: (e) => (cap = captureOut(e, file))});
      const c = cap as ReturnType<typeof captureOut> | null;
      c?.close();
      const packets = c?.packets ?? 0;
      log(`replay: ${ext}: ${packets} packets, ${(statSync(file).size / 2 ** 20).toFixed(1)} MiB`);
      const read = spread(await timed(() => readAlone(file)));
      const rep = spread(await timed(() => replay(file)));
      figures.push(
        spreadFigure(`replay.${ext}.read: read and decode a ${packets}-packet flood capture, no engine`, read, 'pkts/s', {id: `replay-read-${ext}`}),
        spreadFigure(`replay.${ext}.engine: the same capture replayed into the engine (lvsdeck replay's path)`, rep, 'pkts/s', {
          baseline: `replay-read-${ext}`,
          target: {of: 'value', op: '>=', limit: 20_000, why: 'keeps up with the flood soak\'s 20k SYN/s in real time (--speed 1)'},
        }),
      );
    }
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of await runReplayBench((s) => process.stderr.write(`${s}\n`))) console.log(JSON.stringify(f));
}
