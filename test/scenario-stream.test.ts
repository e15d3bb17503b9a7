// Streamed output of `lvsdeck run` / `replay` (src/scenario/text-stream.ts): text with --trace,
// --json --trace and --json --packets are written as the run goes. The streamed output equals the
// held one; on a run writing tens of megabytes the retained heap stays a small fraction of it.
import v8 from 'node:v8';
import {runInNewContext} from 'node:vm';
import {describe, expect, it} from 'vitest';
import {parseScenario} from '../src/scenario/load.js';
import {runJson} from '../src/scenario/json.js';
import {renderText, runScenario} from '../src/scenario/runner.js';
import {streamedOutput} from '../src/scenario/text-stream.js';

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const retainedMiB = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

const scenario = (until: string, rate: number) => `until: ${until}
rules: |
  -A -u 10.0.0.1:53 -s rr
  -a -u 10.0.0.1:53 -r 10.1.0.1:53 -m
  -a -u 10.0.0.1:53 -r 10.1.0.2:53 -m
traffic:
  - {kind: udpflood, rate: ${rate}, to: 10.0.0.1:53}
actions:
  - at: 1s
    ipvsadm: -L -n --stats
report:
  - ipvsadm -Ln
  - sysctl net.ipv4.vs.drop_entry
`;

async function streamed(text: string, o: {json: boolean; trace: boolean; packets: boolean}, write: (s: string) => void) {
  const out = streamedOutput(o, write);
  const r = await runScenario(parseScenario(text, 's.yaml'), out.options);
  out.finish(r);
  return r;
}

describe('streamed run output equals the held output', () => {
  const t = scenario('2s', 300);
  it('text with --trace: trace lines and reports in order, end reports last', async () => {
    const held = renderText(await runScenario(parseScenario(t, 's.yaml'), {trace: true}));
    let out = '';
    const r = await streamed(t, {json: false, trace: true, packets: false}, (s) => { out += s; });
    expect(r.blocks.filter((b) => b.kind === 'trace')).toEqual([]); // nothing kept
    expect(out).toBe(held);
    expect(out).toMatch(/==> ipvsadm -L -n --stats \(t=1\.000s\) <==/);
    expect(out.trimEnd().split('\n').at(-1)).toMatch(/drop_entry = 0/);
  });

  it('--json --trace, --json --packets and --json --packets --trace parse to the held documents', async () => {
    for (const o of [{trace: true, packets: false}, {trace: false, packets: true}, {trace: true, packets: true}]) {
      const heldDoc = runJson(await runScenario(parseScenario(t, 's.yaml'), o), o);
      let out = '';
      await streamed(t, {json: true, ...o}, (s) => { out += s; });
      expect(JSON.parse(out)).toEqual(heldDoc);
    }
  });

  it('without --trace a single report prints alone, as before', async () => {
    const one = 'until: 1s\nrules: |\n  -A -t 10.0.0.1:80 -s rr\nreport:\n  - ipvsadm -Ln\n';
    let out = '';
    await streamed(one, {json: false, trace: true, packets: false}, (s) => { out += s; });
    expect(out).toBe(renderText(await runScenario(parseScenario(one, 's.yaml'))));
    expect(out).toMatch(/^IP Virtual Server version/);
  });
});

describe('streamed run output: memory bounded on a large run', () => {
  it('text --trace of a run writing tens of MB: every trace line out, retained heap a small fraction of the output', async () => {
    // about 150,000 packets in, each with its trace line (and the replies): past what a test holds cheaply
    const t = scenario('30s', 5000);
    const base = retainedMiB();
    let bytes = 0, lines = 0, peak = 0, nextCheck = 8 << 20;
    const r = await streamed(t, {json: false, trace: true, packets: false}, (s) => {
      bytes += s.length;
      for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) lines++;
      if (bytes >= nextCheck) { // the heap that stays, every 8 MB of output
        nextCheck += 8 << 20;
        peak = Math.max(peak, retainedMiB() - base);
      }
    });
    expect(r.engine.counters.packetsIn).toBeGreaterThan(140_000);
    expect(lines).toBeGreaterThan(r.engine.counters.packetsIn);
    const outMiB = bytes / 2 ** 20;
    expect(outMiB).toBeGreaterThan(16);
    expect(peak, `retained ${peak.toFixed(1)} MiB while writing ${outMiB.toFixed(1)} MiB`).toBeLessThan(outMiB / 8);
  }, 300_000);
});
