// The metrics endpoint: node_exporter's ipvs metric names and labels (its ipvs collector: totals
// from /proc/net/ip_vs_stats, backends per label set, FWM services with local_mark), the
// lvsdeck_* additions, `promtool check metrics` on the exposition, the read-only JSON API and its
// bounds, the loopback rule, and a live `lvsdeck replay --speed 1 --metrics` scraped during a SYN
// flood until drop_entry's metrics flip.
import {spawn, spawnSync} from 'node:child_process';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {createMetricsRegistry} from '../src/metrics/registry.js';
import {parseMetricsListen, startMetricsServer} from '../src/metrics/server.js';
import {engineSource} from '../src/metrics/source.js';
import {packetFromSpec} from '../src/engine/packet.js';
import {box} from './helpers/ipvsadm.js';
import {BIN, lvsdeck, ROOT} from './helpers/lvsdeck-cli.js';

function director() {
  const e = box(
    '-A -t 192.0.2.1:80 -s rr', '-a -t 192.0.2.1:80 -r 10.0.0.1:8080 -m -w 3', '-a -t 192.0.2.1:80 -r 10.0.0.2:8080 -m',
    '-A -f 7 -s rr', '-a -f 7 -r 10.0.0.1:0 -g -w 2',
    '-A -u [2001:db8::1]:53 -s rr', '-a -u [2001:db8::1]:53 -r [2001:db8::10]:53 -m',
  );
  for (let i = 0; i < 4; i++) e.inbound(packetFromSpec({proto: 'tcp', src: `198.51.100.${i + 1}:40000`, dst: '192.0.2.1:80', flags: 'S', len: 60}));
  e.inbound(packetFromSpec({proto: 'tcp', src: '198.51.100.9:40000', dst: '203.0.113.5:443', flags: 'S', len: 60, fwmark: 7}));
  e.inbound(packetFromSpec({proto: 'udp', src: '[2001:db8::77]:5000', dst: '[2001:db8::1]:53', len: 80}));
  e.inbound(packetFromSpec({proto: 'tcp', src: '198.51.100.1:40001', dst: '192.0.2.1:80', flags: 'A', len: 52})); // no entry: dropped by the first-packet filter
  e.tick(2100); // one estimator run
  return e;
}

const sample = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

describe('the Prometheus exposition', () => {
  it("uses node_exporter's ipvs names and labels, FWM services with local_mark, IPv6 without brackets", async () => {
    const text = await createMetricsRegistry().render(engineSource(director()).view());
    expect(sample(text, 'node_ipvs_connections_total')).toEqual(['node_ipvs_connections_total 6']);
    expect(sample(text, 'node_ipvs_incoming_packets_total')).toEqual(['node_ipvs_incoming_packets_total 6']);
    expect(sample(text, 'node_ipvs_incoming_bytes_total')).toEqual(['node_ipvs_incoming_bytes_total 380']);
    expect(sample(text, 'node_ipvs_backend_weight').sort()).toEqual([
      'node_ipvs_backend_weight{local_address="",local_port="0",remote_address="10.0.0.1",remote_port="0",proto="FWM",local_mark="7"} 2',
      'node_ipvs_backend_weight{local_address="192.0.2.1",local_port="80",remote_address="10.0.0.1",remote_port="8080",proto="TCP",local_mark=""} 3',
      'node_ipvs_backend_weight{local_address="192.0.2.1",local_port="80",remote_address="10.0.0.2",remote_port="8080",proto="TCP",local_mark=""} 1',
      'node_ipvs_backend_weight{local_address="2001:db8::1",local_port="53",remote_address="2001:db8::10",remote_port="53",proto="UDP",local_mark=""} 1',
    ]);
    // SYN_RECV counts as active (ip_vs_conn: not INACTIVE once the first packet set the state)
    expect(sample(text, 'node_ipvs_backend_connections_active').map((l) => l.replace(/\{.*remote_address="([^"]+)".*\}/, ' $1')).sort())
      .toEqual(['node_ipvs_backend_connections_active 10.0.0.1 1', 'node_ipvs_backend_connections_active 10.0.0.1 2', 'node_ipvs_backend_connections_active 10.0.0.2 2', 'node_ipvs_backend_connections_active 2001:db8::10 0']);
    // a TCP ACK with no entry is left to the local stack (sloppy_tcp=0), not dropped
    expect(sample(text, 'lvsdeck_packets_not_forwarded_total')).toEqual(['lvsdeck_packets_not_forwarded_total{reason="first-packet-filter"} 1']);
    expect(sample(text, 'lvsdeck_packets_dropped_total')).toEqual([]);
    expect(sample(text, 'lvsdeck_defense_mode')).toEqual([
      'lvsdeck_defense_mode{defense="drop_entry"} 0', 'lvsdeck_defense_mode{defense="drop_packet"} 0', 'lvsdeck_defense_mode{defense="secure_tcp"} 0',
    ]);
    expect(sample(text, 'lvsdeck_connection_entries').sort()).toEqual([
      'lvsdeck_connection_entries{state="SYN_RECV"} 5', 'lvsdeck_connection_entries{state="UDP"} 1',
    ]);
    expect(sample(text, 'lvsdeck_memory_amemthresh_pages')).toEqual(['lvsdeck_memory_amemthresh_pages 1024']);
    expect(sample(text, 'lvsdeck_estimated_connections_per_second')).toEqual(['lvsdeck_estimated_connections_per_second 1']);
  });

  it('passes promtool check metrics', async () => {
    const text = await createMetricsRegistry().render(engineSource(director()).view());
    const r = spawnSync('promtool', ['check', 'metrics'], {input: text, encoding: 'utf8'});
    expect(r.error).toBeUndefined();
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('the listener and the JSON API', () => {
  it('serves /metrics, /api/v1/snapshot and a bounded /api/v1/conns; refuses writes, unknown paths and bad parameters', async () => {
    const m = await startMetricsServer(engineSource(director()), {host: '127.0.0.1', port: 0});
    try {
      const get = async (path: string, init?: RequestInit) => {
        const r = await fetch(`${m.url}${path}`, init);
        return {status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text()};
      };
      const metrics = await get('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.type).toMatch(/^text\/plain; version=0\.0\.4/);
      const snap = JSON.parse((await get('/api/v1/snapshot')).body);
      expect(snap).toMatchObject({schema: 'lvsdeck.snapshot/1', conns: 6, defense: {drop_entry: {mode: 0, active: false}}});
      expect(snap.services.map((s: {proto: string; mark: string}) => `${s.proto}${s.mark}`)).toEqual(['TCP', 'FWM7', 'UDP']);
      const conns = JSON.parse((await get('/api/v1/conns?filter=192.0.2.1&limit=2')).body);
      expect(conns).toMatchObject({schema: 'lvsdeck.conns/1', total: 4, returned: 2, limit: 2});
      expect(conns.conns[0]).toMatchObject({proto: 'TCP', virtual: '192.0.2.1:80', state: 'SYN_RECV'});
      expect((await get('/api/v1/conns')).body).toContain('"limit":100');
      for (const bad of ['limit=0', 'limit=10001', 'limit=abc', 'sort=state', `filter=${'x'.repeat(300)}`]) {
        const r = await get(`/api/v1/conns?${bad}`);
        expect(r.status, bad).toBe(400);
        expect(JSON.parse(r.body).error).toMatch(/limit|parameter|filter/);
      }
      expect((await get('/api/v1/snapshot', {method: 'POST', body: '{}'})).status).toBe(405);
      expect((await get('/api/v1/nope')).status).toBe(404);
    } finally {
      await m.close();
    }
  });

  it('an address that is not loopback needs the explicit flag', async () => {
    expect(parseMetricsListen('9100')).toEqual({host: '127.0.0.1', port: 9100});
    expect(parseMetricsListen('[::1]:9100')).toEqual({host: '::1', port: 9100});
    expect(() => parseMetricsListen('example.com:9100')).toThrow(/not an IP address/);
    expect(() => parseMetricsListen('127.0.0.1:99999')).toThrow(/PORT/);
    await expect(startMetricsServer(engineSource(director()), {host: '0.0.0.0', port: 0})).rejects.toThrow(/not a loopback address/);
    const r = await lvsdeck(['sync', 'master', '--metrics', '0.0.0.0:0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--metrics 0\.0\.0\.0: not a loopback address; add --metrics-public/);
  });
});

describe('a live instance during a flood', () => {
  it("drop_entry's mode and activity flip on the metrics endpoint while a SYN flood replays in real time", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-metrics-'));
    // 8 MiB available: 2048 pages, 1024 above amemthresh; 320-byte entries cross it after ~13k SYNs
    const setup = ['seed: 5', 'memory: {total: 64MiB, used: 56MiB}', 'sysctl:', '  drop_entry: 1', 'rules: |',
      '  -A -t 10.0.0.1:80 -s rr', '  -a -t 10.0.0.1:80 -r 10.1.0.11:8080 -m', ''].join('\n');
    writeFileSync(join(dir, 'setup.yaml'), setup);
    writeFileSync(join(dir, 'flood.yaml'), `${setup}until: 3s\ntraffic:\n  - {at: 0.5s, for: 2s, kind: synflood, to: 10.0.0.1:80, rate: 10000, from: 198.18.0.0/15}\n`);
    const cap = join(dir, 'flood.pcapng');
    expect((await lvsdeck(['run', join(dir, 'flood.yaml'), '--capture-out', cap])).code).toBe(0);

    const child = spawn(process.execPath, [BIN, 'replay', cap, '--config', join(dir, 'setup.yaml'), '--speed', '1', '--metrics', '127.0.0.1:0', '--no-progress'],
      {cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe']});
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        err += d;
        const m = /metrics: (http:\/\/\S+\/metrics)/.exec(err);
        if (m) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(`replay ended early: ${err}`)));
    });
    const seen: {active: number; mode: number; t: number}[] = [];
    let exposition = '';
    try {
      for (let i = 0; i < 150 && !seen.some((s) => s.active === 1); i++) {
        try {
          exposition = await (await fetch(url)).text();
          const num = (re: RegExp) => Number(re.exec(exposition)?.[1] ?? NaN);
          seen.push({
            active: num(/^lvsdeck_defense_active\{defense="drop_entry"\} (\d+)$/m),
            mode: num(/^lvsdeck_defense_mode\{defense="drop_entry"\} (\d+)$/m),
            t: num(/^lvsdeck_virtual_time_seconds (\S+)$/m),
          });
        } catch {
          // not listening yet or between runs: try again
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      child.kill('SIGTERM');
    }
    // before the flood fills memory: automatic and idle; then active, with the mode moved to 2
    expect(seen.find((s) => s.active === 0)).toMatchObject({mode: 1});
    expect(seen.at(-1)).toMatchObject({active: 1, mode: 2});
    const r = spawnSync('promtool', ['check', 'metrics'], {input: exposition, encoding: 'utf8'});
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
