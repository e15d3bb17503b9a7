import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {parseScenario, runJson, runScenario, ScenarioError} from '../src/scenario/index.js';

async function run(name: string, edit: (text: string) => string = (t) => t) {
  const file = `examples/${name}.yaml`;
  const sc = parseScenario(edit(readFileSync(file, 'utf8')), file);
  const r = await runScenario(sc);
  return {r, json: runJson(r) as Record<string, any>};
}

const reportAt = (json: Record<string, any>, command: string, atMs: number | null) =>
  (json.reports as {at_ms: number | null; command: string; output: string}[])
    .find((x) => x.command === command && x.at_ms === atMs)?.output;

describe('attack scenarios (examples/)', () => {
  for (const mode of ['drop_entry', 'drop_packet']) {
    it(`SYN flood with ${mode}=1: auto mode flips to 2 under memory pressure and back to 1 after`, async () => {
      const {json} = await run(`synflood-${mode.replace('_', '-')}`);
      expect(reportAt(json, `sysctl net.ipv4.vs.${mode}`, 2000)).toBe(`net.ipv4.vs.${mode} = 1\n`);
      expect(reportAt(json, `sysctl net.ipv4.vs.${mode}`, 5000)).toBe(`net.ipv4.vs.${mode} = 2\n`);
      expect(reportAt(json, `sysctl net.ipv4.vs.${mode}`, 80000)).toBe(`net.ipv4.vs.${mode} = 1\n`);
      if (mode === 'drop_entry') expect(json.defense.entries_dropped.SYN_RECV).toBeGreaterThan(1000);
      else expect(json.counters.dropped['drop-packet-defense']).toBeGreaterThan(1000);
    });
  }

  it('the flood with no defense fills the table: every SYN creates an entry', async () => {
    const {json} = await run('synflood-no-defense');
    expect(json.counters.dropped['drop-packet-defense']).toBeUndefined();
    expect(json.defense.entries_dropped).toEqual({});
    const flood = (json.traffic as {kind: string; sessions: number; forwarded: number}[]).find((t) => t.kind === 'synflood')!;
    expect(flood.forwarded).toBe(flood.sessions);
  });

  it('a connection flood leaves far fewer entries with secure_tcp=1 than with 0', async () => {
    const off = await run('connflood-secure-tcp-0');
    const on = await run('connflood-secure-tcp-1');
    expect(off.json.defense.secure_tcp.mode).toBe(0);
    expect(on.json.defense.secure_tcp.mode).toBe(2);
    expect(on.json.counters.entries).toBeLessThan(off.json.counters.entries * 0.6);
  });

  it('port-reuse storm: conn_reuse_mode 1 schedules every reuse afresh, mode 0 rides the old entries', async () => {
    const one = await run('port-reuse-storm');
    const zero = await run('port-reuse-storm', (t) => t.replace('conn_reuse_mode: 1', 'conn_reuse_mode: 0'));
    expect(zero.json.counters.conns_created).toBe(64); // one per (client, port) tuple
    expect(one.json.counters.conns_created).toBeGreaterThan(1000);
  });

  it('the same scenario and seed give byte-identical JSON', async () => {
    const a = await run('synflood-drop-packet', (t) => t.replace('until: 90s', 'until: 15s'));
    const b = await run('synflood-drop-packet', (t) => t.replace('until: 90s', 'until: 15s'));
    expect(JSON.stringify(a.json)).toBe(JSON.stringify(b.json));
  });

  it('traffic entries with an unknown key or a bad kind fail with the file position', async () => {
    const bad = readFileSync('examples/synflood-no-defense.yaml', 'utf8').replace('rate: 20000', 'rate: 20000, burst: 9');
    const err = await runScenario(parseScenario(bad, 'x.yaml')).then(() => null, (e: ScenarioError) => e);
    expect(err).toBeInstanceOf(ScenarioError);
    // the flood is on line 13 of the example; column 70 is where the bad key starts
    expect(err!.format('x.yaml')).toMatch(/^x\.yaml:13:70: traffic\[1\]: unknown key 'burst'/);
    const bad2 = readFileSync('examples/synflood-no-defense.yaml', 'utf8').replace('kind: synflood', 'kind: tsunami');
    await expect(runScenario(parseScenario(bad2, 'x.yaml'))).rejects.toThrow(/kind: expected one of/);
  });

  it('events: quiesce then restore a real server on time', async () => {
    const text = `
seed: 2
until: 20s
rules: |
  -A -t 10.0.0.1:80 -s rr
  -a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 2
  -a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 1
traffic:
  - {kind: clients, to: 10.0.0.1:80, rate: 10, arrivals: uniform}
events:
  - {at: 5s, kind: quiesce, service: 10.0.0.1:80, server: 10.1.0.1:80}
  - {at: 15s, kind: restore, service: 10.0.0.1:80, server: 10.1.0.1:80}
actions:
  - {at: 10s, report: [-Ln]}
report:
  - -Ln
`;
    const r = await runScenario(parseScenario(text, 'events.yaml'));
    const j = runJson(r) as Record<string, any>;
    expect(reportAt(j, 'ipvsadm -Ln', 10000)).toMatch(/10\.1\.0\.1:80\s+Masq\s+0 /);
    expect(reportAt(j, 'ipvsadm -Ln', null)).toMatch(/10\.1\.0\.1:80\s+Masq\s+2 /);
  });
});
