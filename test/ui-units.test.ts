// Units behind the UI: the command-bar parser, the wall-clock loop, the chart adapter, the
// per-session store and the actions module.
import {describe, expect, test} from 'vitest';
import {parseAddrPort} from '../src/engine/addr.js';
import {buildDemo} from '../src/demo/default-config.js';
import {Simulation} from '../src/sim/simulation.js';
import {AuditLog} from '../src/store/actions.js';
import {LocalBackend, ManualClock} from '../src/store/backend.js';
import {UiSession} from '../src/store/session.js';
import fc from 'fast-check';
import {compactAnsi, fitAnsi, renderLineChart, renderSparkline, renderStackGauge, stripAnsi} from '../src/ui/charts.js';
import {SimClock} from '../src/app/clock.js';
import {type CommandContext, parseCommand} from '../src/ui/command-bar.js';

const ctx: CommandContext = {
  generators: [{id: 'synflood-4', kind: 'synflood', to: '10.0.0.1:80', rate: 100, running: true, inFlight: 0,
    stats: {sessions: 0, packetsIn: 0, packetsOut: 0, forwarded: 0, dropped: 0, accepted: 0, capped: 0}}],
  readTunable: (n) => (n === 'amemthresh' ? '1024' : null),
  defaultTarget: (k) => (k === 'udpflood' ? '10.0.0.3:53' : '10.0.0.1:80'),
};
const vip = parseAddrPort('10.0.0.1:80')!;
const key = {kind: 'addr', af: 4, proto: 'tcp', addr: vip.addr, port: 80};

const svcOpts = (o: object = {}) => ({scheduler: 'wlc', flags: 0, persistTimeout: 0, netmask: 0xffffffff, prefixLen: 32, pe: '', ...o});

describe('command bar parser (ipvsadm syntax through src/ipvsadm)', () => {
  test('service and server commands with ipvsadm defaults', () => {
    // -p without a value: ipvsadm's 360 s; -E/-A without -s: wlc
    expect(parseCommand('-A -t 10.0.0.1:80 -s rr -p', ctx)).toEqual(
      {ops: [{op: 'add-service', key, opts: svcOpts({scheduler: 'rr', persistTimeout: 360_000})}]});
    expect(parseCommand('ipvsadm --add-service --tcp-service 10.0.0.1:80', ctx)).toEqual(
      {ops: [{op: 'add-service', key, opts: svcOpts()}]});
    const rs = parseAddrPort('10.1.0.14:8080')!;
    expect(parseCommand('-a -t 10.0.0.1:80 -r 10.1.0.14:8080 -m -w 2', ctx)).toEqual(
      {ops: [{op: 'add-dest', key, af: 4, addr: rs.addr, port: 8080, opts: {fwd: 'masq', weight: 2, uThreshold: 0, lThreshold: 0}}]});
    // without -g/-m/-i and -w: direct routing, weight 1; without a port: the service's
    const rs2 = parseAddrPort('10.1.0.15:80')!;
    expect(parseCommand('-e -t 10.0.0.1:80 -r 10.1.0.15', ctx)).toEqual(
      {ops: [{op: 'edit-dest', key, addr: rs2.addr, port: 80, opts: {fwd: 'route', weight: 1, uThreshold: 0, lThreshold: 0}}]});
    expect(parseCommand('-d -t 10.0.0.1:80 -r 10.1.0.15:80', ctx)).toEqual(
      {ops: [{op: 'del-dest', key, addr: rs2.addr, port: 80}]});
    expect(parseCommand('-D -f 7', ctx)).toEqual({ops: [{op: 'del-service', key: {kind: 'fwmark', af: 4, fwmark: 7}}]});
    expect(parseCommand('-C', ctx)).toEqual({ops: [{op: 'flush'}]});
    expect(parseCommand('-Z', ctx)).toEqual({ops: [{op: 'zero'}]});
    expect(parseCommand('--set 900 120 300', ctx)).toEqual({ops: [{op: 'timeouts', tcp: 900, tcpfin: 120, udp: 300}]});
  });

  test("errors carry ipvsadm's own messages", () => {
    expect(parseCommand('-a -t 10.0.0.1:80 -r 10.1.0.14:8080 -w x', ctx)).toEqual({error: 'ipvsadm: illegal weight specified'});
    expect(parseCommand('-a -r 10.1.0.1:80', ctx)).toEqual(
      {error: "ipvsadm: You need to supply the 'service-address' option for the 'add-server' command"});
    expect(parseCommand('-a -t 10.0.0.1:80', ctx)).toEqual(
      {error: "ipvsadm: You need to supply the 'real-server' option for the 'add-server' command"});
    expect(parseCommand('-A -t nonsense', ctx)).toEqual({error: 'ipvsadm: illegal virtual server address[:port] specified'});
    expect(parseCommand('-S', ctx)).toMatchObject({error: expect.stringContaining('lvsdeck ipvsadm -S')});
  });

  test('listings open the view that is the listing: -Lnc the Connections view, -Ln the Services view', () => {
    expect(parseCommand('ipvsadm -Lnc', ctx)).toEqual({ui: 'view', view: 'conns'});
    expect(parseCommand('-L -n -c', ctx)).toEqual({ui: 'view', view: 'conns'});
    expect(parseCommand('-Ln', ctx)).toEqual({ui: 'view', view: 'services'});
    expect(parseCommand('-L -t 10.0.0.1:80', ctx)).toEqual({ui: 'view', view: 'services'});
    // ipvsadm's own option rules still apply
    expect(parseCommand('-Lnc -w 3', ctx)).toEqual({error: "ipvsadm: Illegal 'weight' option with the 'list' command"});
  });

  test('sysctl, attack and UI commands', () => {
    expect(parseCommand('sysctl -w net.ipv4.vs.drop_entry=1', ctx)).toEqual({ops: [{op: 'set-tunable', name: 'drop_entry', value: '1'}]});
    expect(parseCommand('sysctl net.ipv4.vs.amemthresh', ctx)).toEqual({ui: 'show', text: 'net.ipv4.vs.amemthresh = 1024'});
    expect(parseCommand('secure_tcp=3', ctx)).toEqual({ops: [{op: 'set-tunable', name: 'secure_tcp', value: '3'}]});
    expect(parseCommand('attack synflood', ctx)).toEqual({ops: [{op: 'traffic-add', spec: {kind: 'synflood', to: '10.0.0.1:80', rate: 5000}}]});
    expect(parseCommand('attack udpflood 2000', ctx)).toEqual({ops: [{op: 'traffic-add', spec: {kind: 'udpflood', to: '10.0.0.3:53', rate: 2000}}]});
    expect(parseCommand('attack stop synflood', ctx)).toEqual({ops: [{op: 'traffic-stop', id: 'synflood-4'}]});
    expect(parseCommand('attack rate synflood-4 10', ctx)).toEqual({ops: [{op: 'traffic-rate', id: 'synflood-4', rate: 10}]});
    expect(parseCommand('attack teleport', ctx)).toMatchObject({error: expect.stringContaining('KIND is one of')});
    expect(parseCommand('speed 10', ctx)).toEqual({ops: [{op: 'speed', speed: 10}]});
    expect(parseCommand('view conns', ctx)).toEqual({ui: 'view', view: 'conns'});
    expect(parseCommand('q', ctx)).toEqual({ui: 'quit'});
  });
});

describe('wall-clock loop', () => {
  test('maps wall time to virtual time with the speed factor; pause stops it; step advances', () => {
    const sim = new Simulation({seed: 1});
    let wall = 0;
    const c = new SimClock(sim, {now: () => wall});
    c.start(); c.stop();
    wall = 100; c.tick();
    expect(sim.now).toBe(100);
    c.setSpeed(10);
    wall = 200; c.tick();
    expect(sim.now).toBe(1100);
    c.setPaused(true);
    wall = 700; c.tick();
    expect(sim.now).toBe(1100);
    expect(c.info()).toMatchObject({paused: true, effective: 0});
    c.step(1000);
    expect(sim.now).toBe(2100);
    c.setPaused(false);
    wall = 800; c.tick();
    expect(sim.now).toBe(3100);
    // a stalled loop does not jump: at most 250 ms of wall time per tick
    wall = 60_000; c.tick();
    expect(sim.now).toBe(5600);
  });

  test('a flood beyond the per-tick event budget lags instead of freezing', () => {
    const sim = buildDemo(1);
    sim.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: 200_000});
    let wall = 0;
    // each budget check costs 1 ms of fake wall time: 3 slices of 500 events fit a 3 ms budget
    const c = new SimClock(sim, {now: () => wall++, budgetMs: 3, slice: 500, speed: 100});
    c.start(); c.stop();
    wall = 100;
    c.tick();
    expect(sim.now).toBeLessThan(100 * 100);           // did not reach the target
    expect(c.info().lagging).toBe(true);
    expect(c.info().effective).toBeLessThan(100);
  });
});

describe('chart adapter (blessed-contrib off-screen)', () => {
  test('exact sizes, colours kept, no screen, no listeners, no handles', () => {
    const listeners = ['exit', 'SIGTERM', 'SIGINT', 'uncaughtException'].map((e) => process.listenerCount(e));
    const y = Array.from({length: 50}, (_, i) => (i * 37) % 100);
    const lines = renderLineChart([{y, color: 'red'}, {y: y.map((v) => v / 2), color: 'cyan'}], 60, 10);
    expect(lines).toHaveLength(10);
    for (const l of lines) expect([...stripAnsi(l)].length).toBe(60);
    expect(lines.join('')).toMatch(/\x1b\[31m/);
    expect(stripAnsi(lines.join('\n'))).toMatch(/[⠁-⣿]/);
    const g = renderStackGauge([{fraction: 0.5, color: 'white'}, {fraction: 0.25, color: 'green'}], 40);
    expect(g).toHaveLength(2);
    expect(g[0]).toMatch(/\x1b\[47m/);
    const mono = renderStackGauge([{fraction: 0.5, color: 'white'}, {fraction: 0.5, color: 'green'}], 40, {mono: true});
    expect(mono[0]).not.toMatch(/\x1b/);
    expect(renderSparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe('▁▂▃▄▅▆▇█');
    expect(renderSparkline([0, 0], 4)).toBe('  ▁▁');
    expect(['exit', 'SIGTERM', 'SIGINT', 'uncaughtException'].map((e) => process.listenerCount(e))).toEqual(listeners);
  });

  test('compactAnsi merges runs of one colour', () => {
    const raw = '\x1b[31m⠁\x1b[39m\x1b[31m⠂\x1b[39m\x1b[31m⠄\x1b[39m';
    const c = compactAnsi(raw);
    expect(stripAnsi(c)).toBe('⠁⠂⠄');
    expect(c.match(/\x1b\[31m/g)).toHaveLength(1);
  });
});

describe('sessions and actions', () => {
  function two() {
    const sim = buildDemo(1);
    sim.runUntil(5000);
    const backend = new LocalBackend(sim, new ManualClock(sim));
    const audit = new AuditLog();
    const a = new UiSession({backend, audit, user: 'alice'});
    const b = new UiSession({backend, audit, user: 'bob', readOnly: true});
    return {sim, backend, audit, a, b};
  }

  test('each session has its own store: view, selection and filter are independent', () => {
    const {a, b} = two();
    expect(a.store).not.toBe(b.store);
    a.setView('conns');
    a.setConnFilter('tcp');
    a.move(5);
    expect(b.state.view).toBe('dashboard');
    expect(b.state.conns.sel).toBe(0);
    expect(b.state.conns.filter).toBe('');
    expect(a.state.conns.sel).toBe(5);
  });

  test('one change path: applied, audited with the user, visible to the other session', () => {
    const {a, b, audit, backend} = two();
    const r = a.apply({op: 'set-tunable', name: 'amemthresh', value: '2048'});
    expect(r.ok).toBe(true);
    expect(audit.list()).toMatchObject([{user: 'alice', what: 'sysctl -w net.ipv4.vs.amemthresh=2048', ok: true}]);
    b.refresh(true);
    expect(b.state.snap!.memory.amemthresh).toBe(2048);
    expect(b.state.audit).toHaveLength(1);
    const denied = b.apply({op: 'set-tunable', name: 'amemthresh', value: '1'});
    expect(denied).toEqual({ok: false, message: 'read-only session: "sysctl -w net.ipv4.vs.amemthresh=1" is disabled'});
    expect(backend.tunables().find((t) => t.name === 'amemthresh')!.value).toBe('2048');
    const bad = a.apply({op: 'set-tunable', name: 'amemthresh', value: 'lots'});
    expect(bad.ok).toBe(false);
    expect(audit.list()[1]).toMatchObject({ok: false, what: 'sysctl -w net.ipv4.vs.amemthresh=lots'});
  });

  test('history rings sample once per virtual second', () => {
    const {sim, a} = two();
    for (let i = 0; i < 5; i++) { sim.advance(1000); a.refresh(); }
    const h = a.state.hist;
    expect(h.t.length).toBe(5);
    expect(h.cps.every((v) => v > 100)).toBe(true);     // the demo makes ~360 conns/s
    sim.advance(300); a.refresh();
    expect(a.state.hist.t.length).toBe(5);             // not a full second yet
    expect(Object.keys(h.dest).length).toBe(7);
  });
});

describe('fitAnsi', () => {
  /** The definition: walk the line, keep every colour escape, keep visible code points up to `width`, pad. */
  function fitByWalking(line: string, width: number): string {
    let out = '', vis = 0;
    for (const m of line.matchAll(/\x1b\[[\d;]*m|[^\x1b]/gu)) {
      if (m[0].length > 1 && m[0].charCodeAt(0) === 0x1b) { out += m[0]; continue; }
      if (vis >= width) continue;
      out += m[0];
      vis++;
    }
    const reset = /\x1b\[/.test(out) && !out.endsWith('\x1b[39;49m') ? '\x1b[39;49m' : '';
    return out + reset + ' '.repeat(Math.max(0, width - vis));
  }

  test('pads, cuts and closes colours exactly as walking the line does (braille, blocks, escapes, emoji, stray ESC)', () => {
    const piece = fc.constantFrom('a', ' ', '⣿', '⡇', '▇', '😀', '\x1b[31m', '\x1b[39m', '\x1b[39;49m', '\x1b[1;32m', '\x1b', '\x1b[', '\ud800');
    fc.assert(fc.property(fc.array(piece, {maxLength: 40}), fc.integer({min: 0, max: 30}), (pieces, width) => {
      const line = pieces.join('');
      expect(fitAnsi(line, width)).toBe(fitByWalking(line, width));
    }), {numRuns: 3000});
    expect(fitAnsi('\x1b[31m⣿⣿\x1b[39m', 4)).toBe('\x1b[31m⣿⣿\x1b[39m\x1b[39;49m  ');
    expect(fitAnsi('abcdef', 3)).toBe('abc');
  });
});
