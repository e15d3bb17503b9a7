// End to end through the real binary: `lvsdeck run` on the shipped examples (JSON and trace),
// `lvsdeck ipvsadm` / `lvsdeck sysctl` on a state file in a temporary config directory, and the
// error paths (positions, exit statuses, untouched state file).
import {mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {lvsdeck} from './helpers/lvsdeck-cli.js';

interface Doc {
  schema: string;
  sessions: {tag: string; server: string | null; outcome: string; reason: string | null; retransmissions: number}[];
  connections: {protocol: string; state: string; template: boolean; client: string; virtual: string; destination: string; expire: string}[];
  reports: {at_ms: number | null; command: string; output: string}[];
  services: {name: string; dests: {address: string; weight: number; stats: {conns: number}}[]}[];
  counters: {dropped: Record<string, number>; not_handled: Record<string, number>};
  trace: string[];
}

async function runJson(example: string): Promise<Doc> {
  const r = await lvsdeck(['run', `examples/${example}.yaml`, '--json', '--trace']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const doc = JSON.parse(r.stdout) as Doc;
  expect(doc.schema).toBe('lvsdeck.run/1');
  return doc;
}

const servers = (d: Doc) => Object.fromEntries(d.sessions.map((s) => [s.tag, s.server]));
const traceOf = (d: Doc, tag: string) => d.trace.filter((l) => l.slice(9, 15).trim() === tag);

describe('lvsdeck run on the examples', () => {
  it('port-reuse-mode-1: the reused port is rescheduled to the other server', async () => {
    const d = await runJson('port-reuse-mode-1');
    expect(servers(d)).toEqual({s1: '10.0.0.2:80', s2: '10.0.0.1:80'});
    expect(traceOf(d, 's2')[0]).toContain('SYN reuses the port of entry in TIME_WAIT -> 10.0.0.2:80; conn_reuse_mode=1: old entry expired, rescheduled');
    expect(d.connections.map((c) => `${c.state} ${c.destination}`)).toEqual(['ESTABLISHED 10.0.0.1:80']);
  });

  it('port-reuse-mode-0: the SYN takes over the TIME_WAIT entry and the same server', async () => {
    const d = await runJson('port-reuse-mode-0');
    expect(servers(d)).toEqual({s1: '10.0.0.2:80', s2: '10.0.0.2:80'});
    expect(traceOf(d, 's2')[0]).toContain('SYN on existing entry in TIME_WAIT, not rescheduled (conn_reuse_mode=0): stays on 10.0.0.2:80; TIME_WAIT -> SYN_RECV');
  });

  it('port-reuse-mode-2: DR FIN_WAIT entries are reused only with bit 0x2', async () => {
    const d = await runJson('port-reuse-mode-2');
    expect(servers(d)).toEqual({s1: '10.0.0.2:80', s2: '10.0.0.1:80', s3: '10.0.0.2:80', s4: '10.0.0.2:80'});
    expect(traceOf(d, 's2')[0]).toContain('SYN reuses the port of entry in FIN_WAIT -> 10.0.0.2:80; conn_reuse_mode=2: old entry expired, rescheduled');
    expect(traceOf(d, 's4')[0]).toContain('not rescheduled (FIN_WAIT is not a reusable state)');
    expect(d.trace).toContain('  10.000 action sysctl -w net.ipv4.vs.conn_reuse_mode=1');
  });

  it('expire-nodest-conn-0: the removed server\'s entry lingers and swallows the client\'s packets', async () => {
    const d = await runJson('expire-nodest-conn-0');
    expect(d.sessions[0]).toMatchObject({server: '10.0.0.2:80', outcome: 'open', retransmissions: 5});
    expect(d.sessions[1]).toMatchObject({server: '10.0.0.1:80', outcome: 'completed'});
    expect(d.reports[0]).toMatchObject({at_ms: 6000, command: 'ipvsadm -Lnc'});
    expect(d.reports[0]!.output).toContain('TCP 14:54  ESTABLISHED 198.51.100.7:40000 192.0.2.1:80       10.0.0.2:80');
    expect(d.connections.find((c) => c.destination === '10.0.0.2:80')).toMatchObject({state: 'ESTABLISHED', expire: '14:30'});
    expect(d.counters.dropped).toEqual({'dest-unavailable': 6});
    expect(traceOf(d, 's1').at(-1)).toContain('(retransmission 5): existing entry -> 10.0.0.2:80 Masq; state ESTABLISHED; DROPPED: the entry\'s real server 10.0.0.2:80 was removed and expire_nodest_conn=0');
  });

  it('expire-nodest-conn-1: the entry is flushed with the server; the client learns at once', async () => {
    const d = await runJson('expire-nodest-conn-1');
    expect(d.sessions[0]).toMatchObject({outcome: 'failed', reason: 'not handled by IPVS (first-packet-filter): the connection fails', retransmissions: 0});
    expect(d.reports[0]!.output).toBe('IPVS connection entries\npro expire state       source             virtual            destination\n');
    expect(d.connections.map((c) => c.destination)).toEqual(['10.0.0.1:80']);
    expect(d.counters.not_handled).toEqual({'first-packet-filter': 1});
  });

  it('quiesced-persistence-eqt-0: the pinned client keeps going to the quiesced server', async () => {
    const d = await runJson('quiesced-persistence-eqt-0');
    expect(servers(d)).toEqual({s1: '10.0.0.2:443', s2: '10.0.0.2:443', s3: '10.0.0.1:443'});
    expect(traceOf(d, 's2')[0]).toContain('persistence template (198.51.100.7 -> 192.0.2.1:443) -> 10.0.0.2:443 Masq, new entry (server quiesced, weight 0: expire_quiescent_template=0 keeps it)');
    expect(d.services[0]!.dests.map((x) => [x.address, x.weight])).toEqual([['10.0.0.1', 1], ['10.0.0.2', 0]]);
  });

  it('quiesced-persistence-eqt-1: the template is invalidated and the client moves', async () => {
    const d = await runJson('quiesced-persistence-eqt-1');
    expect(servers(d)).toEqual({s1: '10.0.0.2:443', s2: '10.0.0.1:443', s3: '10.0.0.1:443'});
    expect(traceOf(d, 's2')[0]).toContain('template -> 10.0.0.2:443 invalidated (its server is quiesced and expire_quiescent_template=1)');
    expect(d.connections.filter((c) => c.template && c.virtual.endsWith(':65535')))
      .toEqual([expect.objectContaining({state: 'ASSURED', client: '198.51.100.7:0', destination: '10.0.0.2:65535', expire: '00:35'})]);
  });

  it('wrr-3-2-1: the classic sequence after the initial cw=1 pass (ip_vs_wrr.c, ip_vs_wrr_dest_changed)', async () => {
    const d = await runJson('wrr-3-2-1');
    const A = '10.0.0.1:80', B = '10.0.0.2:80', C = '10.0.0.3:80';
    expect(d.sessions.map((s) => s.server)).toEqual([A, B, C, A, A, B, A, B, C, A, A, B]);
    expect(d.services[0]!.dests.map((x) => x.stats.conns)).toEqual([6, 4, 2]);
  });

  it('prints the report exactly, and the same bytes every time', async () => {
    const a = await lvsdeck(['run', 'examples/wrr-3-2-1.yaml']);
    const b = await lvsdeck(['run', 'examples/wrr-3-2-1.yaml']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toBe([
      '==> ipvsadm -Ln (end, t=15.000s) <==',
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  192.0.2.1:80 wrr',
      '  -> 10.0.0.1:80                  Masq    3      0          6         ',
      '  -> 10.0.0.2:80                  Masq    2      0          4         ',
      '  -> 10.0.0.3:80                  Masq    1      0          2         ',
      '',
      '==> ipvsadm -Ln --stats (end, t=15.000s) <==',
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes',
      '  -> RemoteAddress:Port',
      // per session: in S 60 + A 52 + PA 152 + A 52 + FA 52 = 5 packets, 368 bytes;
      // out SA 60 + PA 1052 + FA 52 + A 52 = 4 packets, 1216 bytes
      'TCP  192.0.2.1:80                       12       60       48     4416    14592',
      '  -> 10.0.0.1:80                         6       30       24     2208     7296',
      '  -> 10.0.0.2:80                         4       20       16     1472     4864',
      '  -> 10.0.0.3:80                         2       10        8      736     2432',
      '',
    ].join('\n'));
    const t = await lvsdeck(['run', 'examples/port-reuse-mode-1.yaml', '--trace', '--until', '5001ms']);
    expect(t.stdout.split('\n')[0]).toBe('   0.000 s1     in  TCP 198.51.100.7:40000 -> 192.0.2.1:80 S 60B: TCP 192.0.2.1:80: rr chose 10.0.0.2:80 Masq (weight 1), new entry; NONE -> SYN_RECV; forwarded');
    expect(t.stdout).toContain('==> ipvsadm -Lnc (end, t=5.001s) <==\nIPVS connection entries\n');
  });

  it('reports scenario errors with the file position and a non-zero status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-sc-'));
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'rules: |\n  -A -t 192.0.2.1:80 -s nosuch\nsessions:\n  - {at: 1, client: 198.51.100.7:1, to: 192.0.2.1:80}\n');
    const r = await lvsdeck(['run', f]);
    expect(r).toMatchObject({code: 1, stdout: ''});
    expect(r.stderr).toBe(`lvsdeck run: ${f}:2:3: rules: ipvsadm -A -t 192.0.2.1:80 -s nosuch: Scheduler or persistence engine not found\n`);
    writeFileSync(f, 'sessions:\n  - {at: soon, client: 198.51.100.7:1, to: 192.0.2.1:80}\n');
    expect((await lvsdeck(['run', f])).stderr).toBe(`lvsdeck run: ${f}:2:10: sessions[0].at: bad time 'soon' (use seconds like 1.5, or 500ms, 90s, 2m, 1h, 1m30s)\n`);
    expect(await lvsdeck(['run', 'examples/wrr-3-2-1.yaml', '--until', 'later'])).toMatchObject({code: 2});
    expect(await lvsdeck(['run', join(dir, 'missing.yaml')])).toMatchObject({code: 1});
  });
});

describe('lvsdeck ipvsadm and sysctl on a state file', () => {
  it('behaves like one box across invocations, in the default config directory', async () => {
    const cfg = mkdtempSync(join(tmpdir(), 'lvsdeck-cfg-'));
    const env = {XDG_CONFIG_HOME: cfg};
    const state = join(cfg, 'lvsdeck', 'state.json');
    expect(await lvsdeck(['ipvsadm', '-A', '-t', '10.0.0.1:80', '-s', 'rr'], {env})).toEqual({code: 0, stdout: '', stderr: ''});
    expect((await lvsdeck(['ipvsadm', '-a', '-t', '10.0.0.1:80', '-r', '192.168.0.2:80', '-m', '-w', '2'], {env})).code).toBe(0);
    expect(JSON.parse(readFileSync(state, 'utf8')).version).toBe(1);
    const ls = await lvsdeck(['ipvsadm', '-Ln'], {env});
    expect(ls.stdout).toBe([
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  10.0.0.1:80 rr',
      '  -> 192.168.0.2:80               Masq    2      0          0         ',
      '',
    ].join('\n'));

    // A failing command: ipvsadm's message and status, the state file untouched.
    const before = readFileSync(state, 'utf8');
    const mtime = statSync(state).mtimeMs;
    expect(await lvsdeck(['ipvsadm', '-A', '-t', '10.0.0.1:80'], {env})).toEqual({code: 255, stdout: '', stderr: 'Service already exists\n'});
    expect(await lvsdeck(['ipvsadm', '-a', '-t', '10.0.0.1:80', '-r', '192.168.0.3', '-w', 'x'], {env})).toEqual({code: 2, stdout: '', stderr: 'illegal weight specified\n'});
    expect((await lvsdeck(['sysctl', '-w', 'net.ipv4.vs.drop_entry=9'], {env})).code).toBe(255);
    expect(readFileSync(state, 'utf8')).toBe(before);
    expect(statSync(state).mtimeMs).toBe(mtime);

    // sysctl writes persist; -a is sorted.
    expect(await lvsdeck(['sysctl', '-w', 'net.ipv4.vs.expire_nodest_conn=1'], {env})).toEqual({code: 0, stdout: 'net.ipv4.vs.expire_nodest_conn = 1\n', stderr: ''});
    const all = (await lvsdeck(['sysctl', '-a'], {env})).stdout;
    expect(all).toContain('net.ipv4.vs.expire_nodest_conn = 1\n');
    expect(all.split('\n')[0]).toBe('net.ipv4.vs.am_droprate = 10');
  });

  it('-S piped into -R on another state file reproduces the configuration; a bad -R stream changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-st-'));
    const a = join(dir, 'a.json'), b = join(dir, 'b.json');
    for (const cmd of [
      '-A -t 10.0.0.1:443 -s wlc -p 300 -M 255.255.255.0', '-a -t 10.0.0.1:443 -r 10.1.0.1 -m -w 5',
      '-a -t 10.0.0.1:443 -r 10.1.0.2 -i --tun-type gue --tun-port 6080 --tun-nocsum', '-A -u 10.0.0.1:53 -s sh -o -b sh-port', '-A -f 7 -6 -s rr',
    ]) {
      expect((await lvsdeck(['ipvsadm', '--state', a, ...cmd.split(' ')])).code).toBe(0);
    }
    const saved = (await lvsdeck(['ipvsadm', '--state', a, '-S', '-n'])).stdout;
    expect(await lvsdeck(['ipvsadm', '--state', b, '-R'], {input: saved})).toEqual({code: 0, stdout: '', stderr: ''});
    expect((await lvsdeck(['ipvsadm', '--state', b, '-Sn'])).stdout).toBe(saved);

    const before = readFileSync(b, 'utf8');
    const bad = await lvsdeck(['ipvsadm', '--state', b, '-R'], {input: '-A -t 10.9.9.9:80\n-A -t 10.0.0.1:443\n'});
    expect(bad.code).toBe(255);
    expect(bad.stderr).toBe('Service already exists\nipvsadm: restore stopped at line 2: -A -t 10.0.0.1:443\n');
    expect(readFileSync(b, 'utf8')).toBe(before);
  });

  it('rejects a corrupt state file without touching it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-bad-'));
    const f = join(dir, 's.json');
    writeFileSync(f, '{"version": 7}');
    const r = await lvsdeck(['ipvsadm', '--state', f, '-A', '-t', '10.0.0.1:80']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`lvsdeck: state file ${f}: unsupported version 7 (expected 1)\n`);
    expect(readFileSync(f, 'utf8')).toBe('{"version": 7}');
  });
});
