// Scenario runs on virtual time: session expansion, retransmissions, DR replies the director never
// sees, explicit packets in both directions, actions and mid-run reports, the trace, the JSON
// document, the traffic hook, and determinism.
import {describe, expect, it} from 'vitest';
import {parseScenario} from '../src/scenario/load.js';
import {runJson} from '../src/scenario/json.js';
import {type RunOptions, renderText, runScenario} from '../src/scenario/runner.js';
import {planSession, retransmitDelay} from '../src/scenario/sessions.js';
import {loadTrafficHook, registerTrafficHook} from '../src/scenario/traffic-hook.js';
import {packetFromSpec} from '../src/engine/packet.js';
import type {SessionItem} from '../src/scenario/types.js';

const NAT = [
  'rules: |',
  '  -A -t 192.0.2.1:80 -s rr',
  '  -a -t 192.0.2.1:80 -r 10.0.0.1:80 -m',
  '  -a -t 192.0.2.1:80 -r 10.0.0.2:80 -m',
];

async function run(lines: string[], opts: RunOptions = {}) {
  return runScenario(parseScenario(lines.join('\n'), 't.yaml'), opts);
}

function session(over: Partial<SessionItem>): SessionItem {
  return {
    index: 0, at: 0, proto: 'tcp', client: {af: 4, addr: 1, port: 1000, text: ''}, to: {af: 4, addr: 2, port: 80, text: ''},
    request: 0, response: 0, close: 'client', rtt: 2, pause: 0, repeat: 1, every: 1000, fwmark: 0, pos: {line: 1, col: 1}, ...over,
  };
}

describe('planSession', () => {
  it('TCP: handshake, request/response segments, close by either side', () => {
    const flights = planSession(session({request: 3000, response: 100, close: 'server'}));
    expect(flights.map((f) => `${f.from}${f.flags}:${f.len}+${f.delay}`)).toEqual([
      'cS:60+0', 'sSA:60+1', 'cA:52+1', 'cPA:1500+0', 'cPA:1500+0', 'cPA:156+0', 'sPA:152+1', 'cA:52+1',
      'sFA:52+1', 'cFA:52+1', 'sA:52+1',
    ]);
    expect(flights[0]!.opening).toBe(true);
    const client = planSession(session({close: 'client', pause: 5000, request: 10}));
    expect(client.slice(-4).map((f) => `${f.from}${f.flags}+${f.delay}`)).toEqual(['sA+1', 'cFA+5001', 'sFA+1', 'cA+1']);
    expect(planSession(session({close: 'hold'})).map((f) => f.flags)).toEqual(['S', 'SA', 'A']);
    expect(planSession(session({close: 'reset'})).map((f) => f.flags)).toEqual(['S', 'SA', 'A', 'R']);
  });

  it('UDP: request and response datagrams, no close', () => {
    expect(planSession(session({proto: 'udp', request: 2000, response: 10})).map((f) => `${f.from}${f.len}`)).toEqual(['c1500', 'c556', 's38']);
    expect(planSession(session({proto: 'udp'})).map((f) => `${f.from}${f.len}`)).toEqual(['c28']);
  });

  it('SCTP: four-way handshake, data, shutdown', () => {
    expect(planSession(session({proto: 'sctp', request: 10, response: 10})).map((f) => `${f.from}:${f.chunk}`)).toEqual([
      'c:init', 's:init_ack', 'c:cookie_echo', 's:cookie_ack', 'c:data', 's:data', 'c:sack', 'c:shutdown', 's:shutdown_ack', 'c:shutdown_complete',
    ]);
  });

  it('retransmission timers of a Linux client', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retransmitDelay('tcp', true, n))).toEqual([1000, 2000, 4000, 8000, 16000, 32000, null]);
    expect(retransmitDelay('tcp', false, 1)).toBe(200);
    expect(retransmitDelay('tcp', false, 11)).toBe(120_000);
    expect(retransmitDelay('tcp', false, 16)).toBeNull();
    expect(retransmitDelay('udp', true, 1)).toBeNull();
  });
});

describe('runScenario', () => {
  it('sends replies from the real server the engine chose (NAT) and counts both directions', async () => {
    const r = await run([...NAT, 'sessions:', '  - {at: 0, client: 198.51.100.7:40000, to: 192.0.2.1:80, request: 100, response: 3000, close: server}']);
    expect(r.sessions).toEqual([{
      tag: 's1', proto: 'tcp', client: '198.51.100.7:40000', to: '192.0.2.1:80', started_ms: 0, ended_ms: 7,
      outcome: 'completed', reason: null, server: '10.0.0.2:80', fwd: 'Masq', packets: 11, retransmissions: 0,
    }]);
    const st = r.engine.totStats.read();
    expect([st.conns, st.inpkts, st.outpkts]).toEqual([1, 5, 6]);
    expect(r.engine.allConns().map((c) => c.stateName)).toEqual(['TIME_WAIT']);
  });

  it('DR: the director sees only the client side; the entry ends in FIN_WAIT (ip_vs_proto_tcp.c, set_tcp_state)', async () => {
    const r = await run([
      'rules: |', '  -A -t 192.0.2.1:80 -s rr', '  -a -t 192.0.2.1:80 -r 10.0.0.1 -g',
      'sessions:', '  - {at: 0, client: 198.51.100.7:40000, to: 192.0.2.1:80, request: 100, response: 3000, close: server}',
    ], {trace: true});
    expect(r.engine.counters.packetsOut).toBe(0);
    expect(r.engine.allConns().map((c) => c.stateName)).toEqual(['FIN_WAIT']);
    const trace = r.blocks.map((b) => (b.kind === 'trace' ? b.line : ''));
    expect(trace.filter((l) => l.includes('goes straight to the client (Route): not seen by the director'))).toHaveLength(6);
  });

  it('a SYN the director drops is retransmitted after 1, 2, 4 s; ICMP refusal ends the session at once', async () => {
    const r = await run([
      'rules: |', '  -A -t 192.0.2.1:80 -s rr', '  -a -t 192.0.2.1:80 -r 10.0.0.1 -m -w 0',
      'sessions:', '  - {at: 0, client: 198.51.100.7:40000, to: 192.0.2.1:80}',
    ], {trace: true});
    expect(r.sessions[0]).toMatchObject({outcome: 'failed', reason: 'refused: ICMP 3/3 from the director (no-destination)', packets: 1});

    const drop = await run([
      'sysctl: {am_droprate: 1, drop_packet: 3}', ...NAT,
      'sessions:', '  - {at: 0, client: 198.51.100.7:40000, to: 192.0.2.1:80}',
    ], {packets: true});
    expect(drop.packets.map((p) => [p.t_ms, p.retransmission, p.reason])).toEqual([
      [0, 0, 'drop-packet-defense'], [1000, 1, 'drop-packet-defense'], [3000, 2, 'drop-packet-defense'],
      [7000, 3, 'drop-packet-defense'], [15000, 4, 'drop-packet-defense'], [31000, 5, 'drop-packet-defense'],
      [63000, 6, 'drop-packet-defense'],
    ]);
    expect(drop.sessions[0]).toMatchObject({outcome: 'failed', retransmissions: 6, ended_ms: 63000});
  });

  it('UDP sessions stay inactive and time out after the UDP timeout; SCTP reaches ESTABLISHED', async () => {
    const r = await run([
      'until: 10s',
      'rules: |', '  -A -u 192.0.2.1:53 -s rr', '  -a -u 192.0.2.1:53 -r 10.0.0.1 -m', '  -A --sctp-service 192.0.2.1:38412 -s rr',
      '  -a --sctp-service 192.0.2.1:38412 -r 10.0.0.2 -m',
      'sessions:', '  - {at: 0, proto: udp, client: 198.51.100.7:5353, to: 192.0.2.1:53, request: 40, response: 200}',
      '  - {at: 0, proto: sctp, client: 198.51.100.7:5000, to: "192.0.2.1:38412", request: 100, response: 100, close: hold}',
      'report: -Lnc',
    ]);
    const rows = renderText(r).split('\n').slice(2, 4).sort();
    expect(rows).toEqual([
      'SCTP 14:50  ESTABLISHED 198.51.100.7:5000  192.0.2.1:38412    10.0.0.2:38412',
      'UDP 04:50  UDP         198.51.100.7:5353  192.0.2.1:53       10.0.0.1:53',
    ]);
  });

  it('explicit packets: direction decided by the tables, or given', async () => {
    const r = await run([...NAT, 'packets:',
      '  - {at: 0, src: 198.51.100.7:40000, dst: 192.0.2.1:80, flags: S}',
      '  - {at: 0.5, src: 10.0.0.2:80, dst: 198.51.100.7:40000, flags: SA}',
      '  - {at: 1, src: 198.51.100.7:40000, dst: 192.0.2.1:80, flags: A}',
      '  - {at: 2, src: 198.51.100.9:40000, dst: 192.0.2.1:80, flags: A}',
      '  - {at: 3, src: 10.0.0.1:80, dst: 198.51.100.9:40000, flags: A, dir: out}',
    ], {packets: true});
    expect(r.packets.map((p) => `${p.tag} ${p.dir} ${p.action} ${p.reason} ${p.state_before}->${p.state_after}`)).toEqual([
      'p1 in forward  NONE->SYN_RECV', 'p2 out forward  SYN_RECV->SYN_RECV', 'p3 in forward  SYN_RECV->ESTABLISHED',
      'p4 in accept first-packet-filter null->null', 'p5 out accept no-entry null->null',
    ]);
  });

  it('actions change the configuration and print reports at their time; until cuts the run', async () => {
    const r = await run([
      'until: 8s', ...NAT,
      'sessions:', '  - {at: 0, client: 198.51.100.7:40000, to: 192.0.2.1:80, close: hold}',
      '  - {at: 9, client: 198.51.100.7:40001, to: 192.0.2.1:80, close: hold}',
      'actions:', '  - {at: 5, ipvsadm: "-d -t 192.0.2.1:80 -r 10.0.0.2:80"}',
      '  - {at: 5, report: -Ln}', '  - {at: 6, sysctl: {expire_nodest_conn: 1}}',
      'report: [sysctl net.ipv4.vs.expire_nodest_conn, /proc/sys/net/ipv4/vs/conn_reuse_mode]',
    ]);
    expect(r.endMs).toBe(8000);
    expect(r.sessions.map((s) => s.outcome)).toEqual(['open', 'pending']);
    const text = renderText(r);
    expect(text).toBe([
      '==> ipvsadm -Ln (t=5.000s) <==',
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  192.0.2.1:80 rr',
      '  -> 10.0.0.1:80                  Masq    1      0          0         ',
      '',
      '==> sysctl net.ipv4.vs.expire_nodest_conn (end, t=8.000s) <==',
      'net.ipv4.vs.expire_nodest_conn = 1',
      '',
      '==> cat /proc/sys/net/ipv4/vs/conn_reuse_mode (end, t=8.000s) <==',
      '1',
      '',
    ].join('\n'));
  });

  it('a single report prints exactly what the tool prints', async () => {
    const r = await run([...NAT, 'report: /proc/net/ip_vs_stats']);
    expect(renderText(r)).toBe(r.blocks[0]!.kind === 'report' ? r.blocks[0]!.text : '');
    expect(renderText(r).startsWith('   Total Incoming Outgoing')).toBe(true);
  });

  it('the trace explains port reuse, removed servers and persistence templates', async () => {
    const r = await run([
      'until: 40s', 'sysctl: {expire_quiescent_template: 1}',
      'rules: |', '  -A -t 192.0.2.1:443 -s rr -p 60', '  -a -t 192.0.2.1:443 -r 10.0.0.1:443 -m', '  -a -t 192.0.2.1:443 -r 10.0.0.2:443 -m',
      'sessions:',
      '  - {at: 0, client: 198.51.100.7:40000, to: 192.0.2.1:443, close: client}',
      '  - {at: 20, client: 198.51.100.7:40001, to: 192.0.2.1:443, close: hold}',
      'actions:', '  - {at: 10, ipvsadm: "-e -t 192.0.2.1:443 -r 10.0.0.2:443 -m -w 0"}',
    ], {trace: true});
    const lines = r.blocks.flatMap((b) => (b.kind === 'trace' ? [b.line] : []));
    expect(lines[0]).toBe('   0.000 s1     in  TCP 198.51.100.7:40000 -> 192.0.2.1:443 S 60B: TCP 192.0.2.1:443: rr chose 10.0.0.2:443 Masq (weight 1), new persistence template and entry; NONE -> SYN_RECV; forwarded');
    expect(lines).toContain('  10.000 action ipvsadm -e -t 192.0.2.1:443 -r 10.0.0.2:443 -m -w 0');
    expect(lines.find((l) => l.startsWith('  20.000 s2'))).toBe(
      '  20.000 s2     in  TCP 198.51.100.7:40001 -> 192.0.2.1:443 S 60B: TCP 192.0.2.1:443: template -> 10.0.0.2:443 invalidated (its server is quiesced and expire_quiescent_template=1); rr chose 10.0.0.1:443 Masq, new template and entry; NONE -> SYN_RECV; forwarded');
  });

  it('the JSON document has the documented keys in order and is deterministic', async () => {
    const lines = [...NAT, 'seed: 9', 'until: 3s', 'sessions:', '  - {at: 0, client: 198.51.100.7:40000, to: 192.0.2.1:80, close: hold, repeat: 3}', 'report: -Ln'];
    const a = JSON.stringify(runJson(await run(lines, {trace: true, packets: true}), {trace: true, packets: true}));
    const b = JSON.stringify(runJson(await run(lines, {trace: true, packets: true}), {trace: true, packets: true}));
    expect(a).toBe(b);
    const doc = JSON.parse(a);
    expect(Object.keys(doc)).toEqual([
      'schema', 'scenario', 'end_ms', 'tunables', 'timeouts', 'daemons', 'totals', 'services', 'connections', 'connections_total', 'defense',
      'counters', 'sessions', 'reports', 'packets', 'trace',
    ]);
    expect(doc.schema).toBe('lvsdeck.run/1');
    expect(doc.scenario).toEqual({file: 't.yaml', name: null, seed: 9});
    expect(doc.tunables.sync_threshold).toEqual([3, 50]);
    expect(doc.services[0].dests.map((d: {address: string; active_conns: number}) => [d.address, d.active_conns])).toEqual([['10.0.0.1', 1], ['10.0.0.2', 2]]);
    expect(doc.connections).toHaveLength(3);
    expect(doc.connections_total).toBe(3);
    const capped = runJson(await run(lines), {maxConns: 1}) as {connections: unknown[]; connections_total: number};
    expect([capped.connections.length, capped.connections_total]).toEqual([1, 3]);
    expect(Object.keys(doc.connections[0])).toEqual([
      'protocol', 'state', 'template', 'expires_ms', 'expire', 'client', 'virtual', 'destination', 'fwd', 'in_pkts',
      'out_pkts', 'controlled', 'controls', 'sync',
    ]);
    expect(doc.packets[0]).toMatchObject({t_ms: 0, tag: 's1.1', dir: 'in', action: 'forward', created: true, state_after: 'SYN_RECV'});
    expect(doc.reports[0].command).toBe('ipvsadm -Ln');
  });

  it('hands traffic:/events: entries to the registered hook and merges its drivers in time order', async () => {
    const seen: unknown[] = [];
    registerTrafficHook((entries, ctx) => {
      seen.push(...entries.map((en) => en.spec));
      let next = 1000;
      return [{
        nextTime: () => next,
        fire: () => {
          ctx.send('in', packetFromSpec({proto: 'tcp', src: '203.0.113.9:999', dst: '192.0.2.1:80', flags: 'S'}), 'g1');
          next = next < 3000 ? next + 1000 : Infinity;
        },
        summary: () => ({sent: 3}),
      }];
    });
    try {
      const r = await run([...NAT, 'until: 5s', 'traffic:', '  - {kind: synflood, rate: 1}'], {packets: true});
      expect(seen).toEqual([{kind: 'synflood', rate: 1}]);
      expect(r.packets.map((p) => [p.t_ms, p.tag])).toEqual([[1000, 'g1'], [2000, 'g1'], [3000, 'g1']]);
      expect(r.traffic).toEqual([{sent: 3}]);
    } finally {
      registerTrafficHook(null);
    }
  });

  it('without a traffic module, traffic: entries fail with "traffic generators not available"', async () => {
    if (await loadTrafficHook()) {
      registerTrafficHook(null);
      return; // the traffic module is installed in this tree
    }
    await expect(run([...NAT, 'until: 5s', 'traffic:', '  - {kind: synflood}'])).rejects.toThrow(/traffic generators not available/);
  });
});
