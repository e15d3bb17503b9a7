// Scenario values of the wrong type and inputs of unbounded cost: each refused with a ScenarioError
// at file:line:col naming the key (never a JS TypeError), before any work where the cost can be
// counted up front, and by the run's packet budget where it cannot. Bounds: src/util/bounds.ts.
import {describe, expect, it} from 'vitest';
import {parseScenario} from '../src/scenario/load.js';
import {runJson} from '../src/scenario/json.js';
import {PacketStream} from '../src/scenario/packet-stream.js';
import {type RunOptions, runScenario} from '../src/scenario/runner.js';
import type {PacketRecord} from '../src/scenario/trace.js';
import {ScenarioError} from '../src/scenario/types.js';
import {BOUNDS} from '../src/util/bounds.js';
import {lvsdeck} from './helpers/lvsdeck-cli.js';

async function refusal(text: string, opts: RunOptions = {}): Promise<string> {
  try {
    await runScenario(parseScenario(text, 's.yaml'), opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return (err as ScenarioError).format('s.yaml');
  }
  throw new Error('accepted');
}

const flood = (extra: string) => `until: 2s
rules: |
  -A -u 10.0.0.1:53 -s rr
  -a -u 10.0.0.1:53 -r 10.1.0.1:53 -m
traffic:
  - {kind: udpflood, rate: 10, ${extra}}
`;

describe('traffic: every value type-checked, with its position', () => {
  const cases: [string, RegExp][] = [
    ['to: 80', /^s\.yaml:6:32: traffic\[0\]\.to: expected VIP:PORT as text, got 80$/],
    ['to: null', /^s\.yaml:6:32: traffic\[0\]\.to: expected VIP:PORT as text, got nothing$/],
    ['to: [10.0.0.1:53]', /traffic\[0\]\.to: expected VIP:PORT as text, got a list$/],
    ['from: 80, to: 10.0.0.1:53', /^s\.yaml:6:32: traffic\[0\]\.from: expected a source block like 198\.18\.0\.0\/15, got 80$/],
    ['from: null, to: 10.0.0.1:53', /traffic\[0\]\.from: .*got nothing$/],
    ['from: [1], to: 10.0.0.1:53', /traffic\[0\]\.from: .*got a list$/],
    ['from: {a: 1}, to: 10.0.0.1:53', /traffic\[0\]\.from: .*got a map$/],
    ['from: .inf, to: 10.0.0.1:53', /traffic\[0\]\.from: .*got Infinity$/],
    ['to: 10.0.0.1:53, len: 1e9', /traffic\[0\]\.len: 1000000000 is outside 20\.\.65535/],
    ['to: 10.0.0.1:53, len: "big"', /traffic\[0\]\.len: expected a whole number, got 'big'/],
    ['to: 10.0.0.1:53, request: -1', /traffic\[0\]\.request: -1 is outside/],
  ];
  for (const [extra, want] of cases) {
    it(`{${extra}} is a ScenarioError naming the key`, async () => {
      expect(await refusal(flood(extra))).toMatch(want);
    });
  }
  it('a missing to: is named (not a crash)', async () => {
    expect(await refusal(flood('len: 100'))).toMatch(/traffic\[0\]\.to: expected VIP:PORT as text, got nothing/);
  });
  it('rate: 1e9 is over the per-generator bound', async () => {
    const t = flood('to: 10.0.0.1:53').replace('rate: 10', 'rate: 1e9');
    expect(await refusal(t)).toMatch(new RegExp(`traffic\\[0\\]\\.rate: 1000000000 is outside 0\\.\\.${BOUNDS.trafficRate}`));
  });
});

describe('bounded cost', () => {
  it('20 sessions x repeat 3000 of 1 MB requests is refused at load, before any work, naming the bound', () => {
    const sessions = Array.from({length: 20}, (_, i) =>
      `  - {at: 0s, client: 192.0.2.${i + 1}:10000, to: 10.0.0.1:80, request: 1MB, repeat: 3000, every: 1ms}`).join('\n');
    const t0 = performance.now();
    let msg = '';
    try {
      parseScenario(`rules: |\n  -A -t 10.0.0.1:80 -s rr\nsessions:\n${sessions}\n`, 's.yaml');
    } catch (err) {
      msg = (err as ScenarioError).format('s.yaml');
    }
    expect(msg).toMatch(/^s\.yaml:\d+:\d+: sessions\[\d+\]: the sessions plan \d+ packets in all \(sizes x repeats\), over the limit of 20000000/);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('a request over the size bound is refused with its position', () => {
    expect(() => parseScenario('sessions:\n  - {at: 0s, client: 192.0.2.1:1000, to: 10.0.0.1:80, request: 1GB}\n', 's.yaml'))
      .toThrow(/sessions\[0\]\.request: 1000000000 bytes, over the limit of 67108864/);
  });

  it('until: past 30 days is refused', () => {
    expect(() => parseScenario('until: 1000h\n', 's.yaml')).toThrow(/until: 3600000000 ms is over the limit/);
  });

  it('the run stops with an error at its packet budget (a flood at the rate bound for an hour)', async () => {
    const t = `until: 1h\nrules: |\n  -A -u 10.0.0.1:53 -s rr\n  -a -u 10.0.0.1:53 -r 10.1.0.1:53 -m\ntraffic:\n  - {kind: udpflood, rate: 1000000, to: 10.0.0.1:53}\n`;
    expect(await refusal(t, {maxPackets: 5000})).toMatch(/the run stopped at virtual time 0\.00\d s: more than 5000 packets/);
  });
});

describe('--json --packets streams the records', () => {
  it('the streamed document parses to the same content as the held one', async () => {
    const t = `until: 3s\nrules: |\n  -A -u 10.0.0.1:53 -s rr\n  -a -u 10.0.0.1:53 -r 10.1.0.1:53 -m\ntraffic:\n  - {kind: udpflood, rate: 2000, to: 10.0.0.1:53}\n`;
    const held = await runScenario(parseScenario(t, 's.yaml'), {packets: true});
    const heldDoc = runJson(held, {packets: true});
    let out = '';
    const stream = new PacketStream((s) => { out += s; });
    const streamed = await runScenario(parseScenario(t, 's.yaml'), {packets: true, onPacket: (r: PacketRecord) => stream.add(r)});
    expect(streamed.packets).toEqual([]); // nothing kept
    stream.end(runJson(streamed, {packets: false}));
    const doc = JSON.parse(out) as Record<string, unknown>;
    expect((doc.packets as unknown[]).length).toBeGreaterThan(5000);
    expect(doc).toEqual(heldDoc);
  });
});

describe('command line bounds (through the binary)', () => {
  it('demo --synflood 1e99 and -5 are refused; run and --config name file problems without JS text', async () => {
    const big = await lvsdeck(['demo', '--synflood', '1e99']);
    expect(big.code).toBe(2);
    expect(big.stderr).toBe("lvsdeck demo: --synflood wants a number 0..1000000, got '1e99'\n");
    const neg = await lvsdeck(['demo', '--synflood', '-5']);
    expect(neg.stderr).toBe("lvsdeck demo: --synflood wants a number 0..1000000, got '-5'\n");
    const dir = await lvsdeck(['run', '/tmp']);
    expect(dir.stderr).toBe('lvsdeck run: cannot read /tmp: /tmp is a directory; only regular files are read\n');
    const dev = await lvsdeck(['run', '/dev/zero']);
    expect(dev.stderr).toBe('lvsdeck run: cannot read /dev/zero: /dev/zero is a device; only regular files are read\n');
  }, 120_000);
});
