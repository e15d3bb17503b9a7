// Scenario files: validation with file positions (YAML syntax, unknown keys, addresses, times,
// sizes, sysctls, ipvsadm syntax, report items), defaults, and the time/size units.
import {describe, expect, it} from 'vitest';
import {parseScenario} from '../src/scenario/load.js';
import {runScenario} from '../src/scenario/runner.js';
import {ScenarioError} from '../src/scenario/types.js';
import {UnitError, parseSize, parseTime} from '../src/scenario/units.js';

function loadErr(src: string): string {
  try {
    parseScenario(src, 'f.yaml');
  } catch (e) {
    if (e instanceof ScenarioError) return e.format();
    throw e;
  }
  throw new Error('no error');
}

async function runErr(src: string): Promise<string> {
  try {
    await runScenario(parseScenario(src, 'f.yaml'));
  } catch (e) {
    if (e instanceof ScenarioError) return e.format();
    throw e;
  }
  throw new Error('no error');
}

describe('units', () => {
  it('times: seconds or units, whole milliseconds, not negative', () => {
    expect(parseTime(1.5)).toBe(1500);
    expect(parseTime('1.5')).toBe(1500);
    expect(parseTime('500ms')).toBe(500);
    expect(parseTime('90s')).toBe(90_000);
    expect(parseTime('2m')).toBe(120_000);
    expect(parseTime('1h')).toBe(3_600_000);
    expect(parseTime('1m30s')).toBe(90_000);
    expect(parseTime(0)).toBe(0);
    for (const bad of ['-1', -1, '1x', '1.0001', 0.0005, '30s1m', '', 's', true]) expect(() => parseTime(bad)).toThrow(UnitError);
  });

  it('sizes: bytes or units', () => {
    expect(parseSize(1000)).toBe(1000);
    expect(parseSize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseSize('1.5kB')).toBe(1500);
    expect(parseSize('4 KiB')).toBe(4096);
    expect(parseSize('2GB')).toBe(2e9);
    for (const bad of ['1M', '12 parsecs', -1, 1.5, '0.1B']) expect(() => parseSize(bad)).toThrow(UnitError);
  });
});

describe('parseScenario', () => {
  it('reads every key with defaults', () => {
    const sc = parseScenario([
      'name: demo',
      'seed: 42',
      'memory: 512MiB',
      'until: 1m',
      'sysctl:',
      '  net.ipv4.vs.expire_nodest_conn: true',
      '  conn_reuse_mode: 0',
      '  sync_threshold: "3 60"',
      'rules: |',
      '  # a comment',
      '  ipvsadm -A -t 192.0.2.1:80 -s rr',
      '',
      '  -a -t 192.0.2.1:80 -r 10.0.0.1 -m',
      'packets:',
      '  - {at: 1, src: 198.51.100.1:1000, dst: 192.0.2.1:80, flags: S}',
      'sessions:',
      '  - {at: 2s, client: 198.51.100.1:2000, to: 192.0.2.1:80}',
      'actions:',
      '  - {at: 3, ipvsadm: "-d -t 192.0.2.1:80 -r 10.0.0.1"}',
      '  - {at: 4, sysctl: {drop_entry: 1}}',
      '  - {at: 5, report: [-Lnc, sysctl -a]}',
      'report: -Ln',
    ].join('\n'), 's.yaml');
    expect(sc.name).toBe('demo');
    expect(sc.seed).toBe(42);
    expect(sc.memory).toEqual({totalBytes: 512 * 2 ** 20, usedBytes: 128 * 2 ** 20});
    expect(sc.until).toBe(60_000);
    expect(sc.sysctl.map((s) => [s.name, s.value])).toEqual([['expire_nodest_conn', '1'], ['conn_reuse_mode', '0'], ['sync_threshold', '3 60']]);
    expect(sc.rules.map((r) => [r.words.join(' '), r.pos.line])).toEqual([['-A -t 192.0.2.1:80 -s rr', 11], ['-a -t 192.0.2.1:80 -r 10.0.0.1 -m', 13]]);
    expect(sc.packets[0]).toMatchObject({at: 1000, proto: 'tcp', flags: 'S'});
    expect(sc.sessions[0]).toMatchObject({at: 2000, proto: 'tcp', request: 0, response: 0, close: 'client', rtt: 2, pause: 0, repeat: 1});
    expect(sc.actions.map((a) => a.kind)).toEqual(['ipvsadm', 'sysctl', 'report']);
    expect(sc.report.map((r) => r.command)).toEqual(['ipvsadm -Ln']);
  });

  it.each([
    ['seed: [1\n', 'f.yaml:2:1: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ['seed: 1\nseed: 2\n', 'f.yaml:2:1: YAML: Map keys must be unique'],
    ['- a\n- b\n', 'f.yaml:1:1: the scenario must be a map, got a list'],
    ['', 'f.yaml: empty scenario (expected a map of keys)'],
    ['seed: 1\nbogus: 2\n', "f.yaml:2:1: unknown key 'bogus' in the scenario (allowed: name, description, seed, memory, until, sysctl, rules, packets, sessions, traffic, events, actions, report)"],
    ['seed: -1\n', 'f.yaml:1:7: seed must be an integer in 0..4294967295, got number -1'],
    ['until: soon\n', "f.yaml:1:8: until: bad time 'soon' (use seconds like 1.5, or 500ms, 90s, 2m, 1h, 1m30s)"],
    ['memory: 1 parsec\n', "f.yaml:1:9: memory: bad size '1 parsec' (use bytes or a unit: B, kB, KiB, MB, MiB, GB, GiB, TB, TiB)"],
    ['sysctl:\n  drop_entri: 1\n', "f.yaml:2:3: sysctl: unknown sysctl 'drop_entri' (net.ipv4.vs.NAME or NAME)"],
    ['rules: |\n  -A -t 192.0.2.1:80\n  -a -t 192.0.2.1:80 -r 10.0.0.1 -w lots\n', 'f.yaml:3:3: rules: ipvsadm -a -t 192.0.2.1:80 -r 10.0.0.1 -w lots: illegal weight specified'],
    ['rules:\n  - -A -t 192.0.2.1:80\n  - -R\n', 'f.yaml:3:5: rules: -R cannot be used here (write the rules themselves)'],
    ['sessions:\n  - {at: 1, client: 198.51.100.1, to: 192.0.2.1:80}\n', "f.yaml:2:21: sessions[0].client: bad address '198.51.100.1' (want ADDR:PORT, IPv6 as [ADDR]:PORT in quotes)"],
    ['sessions:\n  - {at: 1, client: 198.51.100.1:1, to: 192.0.2.1:80, colse: server}\n', "f.yaml:2:55: unknown key 'colse' in sessions[0] (allowed: at, client, to, proto, request, response, close, rtt, pause, repeat, every, fwmark)"],
    ['sessions:\n  - {at: 1x, client: 198.51.100.1:1, to: 192.0.2.1:80}\n', "f.yaml:2:10: sessions[0].at: bad time '1x' (use seconds like 1.5, or 500ms, 90s, 2m, 1h, 1m30s)"],
    ['sessions:\n  - {client: 198.51.100.1:1, to: 192.0.2.1:80}\n', "f.yaml:2:5: sessions[0]: 'at' is required"],
    ['sessions:\n  - {at: 1, client: 198.51.100.1:1, to: "[2001:db8::1]:80"}\n', 'f.yaml:2:5: sessions[0]: client and to are of different address families'],
    ['sessions:\n  - {at: 1, client: 198.51.100.1:1, to: 192.0.2.1:80, close: never}\n', "f.yaml:2:62: sessions[0].close must be one of client, server, hold, reset, got 'never'"],
    ['sessions:\n  - {at: 1, client: 198.51.100.1:1, to: 192.0.2.1:80, request: lots}\n', "f.yaml:2:64: sessions[0].request: bad size 'lots' (use bytes or a unit: B, kB, KiB, MB, MiB, GB, GiB, TB, TiB)"],
    ['packets:\n  - {at: 1, src: 198.51.100.1:1, dst: 192.0.2.1:80, proto: udp, flags: S}\n', 'f.yaml:2:72: packets[0].flags: only TCP packets have flags'],
    ['packets:\n  - {at: 1, src: 198.51.100.1:1, dst: 192.0.2.1:80, flags: SYN}\n', "f.yaml:2:60: packets[0].flags: unknown TCP flag 'Y' in 'SYN' (use F S R P A U)"],
    ['packets:\n  - {at: 1, src: 198.51.100.1:1, dst: 192.0.2.1:80, proto: gre}\n', "f.yaml:2:60: packets[0].proto must be tcp, udp, sctp or icmp, got 'gre'"],
    ['packets:\n  - {at: 1, src: 198.51.100.1:1, dst: 999.0.2.1:80}\n', "f.yaml:2:39: packets[0].dst: bad address '999.0.2.1:80' (want ADDR:PORT)"],
    ['actions:\n  - {at: 1, ipvsadm: "-C", sysctl: {drop_entry: 1}}\n', 'f.yaml:2:5: actions[0] needs exactly one of ipvsadm, sysctl, report (besides at)'],
    ['actions:\n  - {at: 1, ipvsadm: "-A -t 1.2.3.4:80 -q"}\n', 'f.yaml:2:23: actions[0].ipvsadm: ipvsadm -A -t 1.2.3.4:80 -q: -q: unknown option'],
    ['report:\n  - -A -t 1.2.3.4:80\n', "f.yaml:2:5: report '-A -t 1.2.3.4:80': a report lists; change the configuration with rules: or actions:"],
    ['report:\n  - /proc/net/nothing\n', "f.yaml:2:5: report '/proc/net/nothing': unknown file (/proc/net/ip_vs, /proc/net/ip_vs_stats, /proc/net/ip_vs_stats_percpu, /proc/net/ip_vs_conn, /proc/net/ip_vs_conn_sync, /proc/sys/net/ipv4/vs/NAME)"],
    ['report:\n  - sysctl -w net.ipv4.vs.drop_entry=1\n', "f.yaml:2:5: report 'sysctl -w net.ipv4.vs.drop_entry=1': a report only reads; set values with sysctl: or an action"],
    ['report:\n  - -L -c --stats\n', "f.yaml:2:5: report '-L -c --stats': options conflicts in the list command"],
  ])('%j', (src, msg) => {
    expect(loadErr(src)).toBe(msg);
  });

  it('reports kernel-side rejections at run time with the position of the rule or value', async () => {
    expect(await runErr('rules: |\n  -A -t 192.0.2.1:80 -s nosuch\n')).toBe(
      'f.yaml:2:3: rules: ipvsadm -A -t 192.0.2.1:80 -s nosuch: Scheduler or persistence engine not found');
    expect(await runErr('sysctl:\n  drop_entry: 4\n')).toBe(
      "f.yaml:2:15: sysctl: net.ipv4.vs.drop_entry = 4: drop_entry: invalid value '4': must be 0..3 (EINVAL)");
    expect(await runErr('rules: -A -t 192.0.2.1:80\nactions:\n  - {at: 5, ipvsadm: "-a -t 192.0.2.9:80 -r 10.0.0.1"}\n')).toBe(
      'f.yaml:3:23: actions[0].ipvsadm: ipvsadm -a -t 192.0.2.9:80 -r 10.0.0.1: Service not defined');
  });
});
