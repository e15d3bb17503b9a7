// Roles: the table of every Op kind's minimum role, enforcement in Actions.apply (a refusal names
// the role needed, changes nothing and is audited), old/new values in the audit, and sessions of
// different users on one backend seeing each other's changes at once.
import {describe, expect, test} from 'vitest';
import {buildDemo} from '../src/demo/default-config.js';
import {
  Actions, AuditLog, describeChange, minRole, OP_MIN_ROLE, type Op, type Role, roleAtLeast,
} from '../src/store/actions.js';
import {LocalBackend, ManualClock} from '../src/store/backend.js';
import {UiSession} from '../src/store/session.js';
import {Presence} from '../src/ssh/presence.js';

const WEB = {kind: 'addr', af: 4, proto: 'tcp', addr: 0x0a000001, port: 80} as const; // 10.0.0.1:80
const RS11 = 0x0a01000b; // 10.1.0.11

function world() {
  const sim = buildDemo(1);
  sim.runUntil(3000);
  const clock = new ManualClock(sim);
  const backend = new LocalBackend(sim, clock);
  const audit = new AuditLog();
  const as = (user: string, role: Role) => new Actions({backend, audit, user, readOnly: false, role, session: 1, from: 'test'});
  const weightOf = () => backend.snapshot().services[0]!.dests.find((d) => d.label === '10.1.0.11:8080')!.weight;
  return {sim, clock, backend, audit, as, weightOf};
}

const weightOp = (w: number): Op => ({op: 'edit-dest', key: WEB, addr: RS11, port: 8080, opts: {fwd: 'masq', weight: w}});

describe('the role table', () => {
  test('every Op kind has a minimum role; the table is what docs/ssh.md shows', () => {
    expect(OP_MIN_ROLE).toEqual({
      'set-tunable': 'admin', 'add-service': 'admin', 'edit-service': 'admin', 'del-service': 'admin',
      'add-dest': 'admin', 'edit-dest': 'admin', 'del-dest': 'admin', timeouts: 'admin', flush: 'admin',
      zero: 'operator', 'traffic-add': 'operator', 'traffic-start': 'operator', 'traffic-stop': 'operator',
      'traffic-rate': 'operator', 'traffic-remove': 'operator', 'server-failed': 'operator',
      speed: 'operator', pause: 'operator', step: 'operator', 'sync-start': 'admin', 'sync-stop': 'admin',
    });
  });

  test('defenses are operator, every other tunable admin; a weight-only edit is operator, anything else admin', () => {
    const {backend} = world();
    for (const name of ['drop_entry', 'drop_packet', 'secure_tcp']) expect(minRole({op: 'set-tunable', name, value: '1'})).toBe('operator');
    for (const name of ['amemthresh', 'debug_level', 'conn_reuse_mode', 'sync_threshold', 'no_such']) {
      expect(minRole({op: 'set-tunable', name, value: '1'})).toBe('admin');
    }
    expect(minRole(weightOp(0), backend)).toBe('operator');
    expect(minRole({op: 'edit-dest', key: WEB, addr: RS11, port: 8080, opts: {weight: 5}}, backend)).toBe('operator');
    expect(minRole({op: 'edit-dest', key: WEB, addr: RS11, port: 8080, opts: {fwd: 'route', weight: 3}}, backend)).toBe('admin');
    expect(minRole({op: 'edit-dest', key: WEB, addr: RS11, port: 8080, opts: {weight: 3, uThreshold: 100}}, backend)).toBe('admin');
    expect(minRole({op: 'edit-dest', key: WEB, addr: 0x0a0a0a0a, port: 1, opts: {weight: 3}}, backend)).toBe('admin');
    expect(minRole(weightOp(0))).toBe('admin'); // without a backend nothing says it is weight-only
  });

  test('the order: reader < operator < admin', () => {
    expect(roleAtLeast('admin', 'operator')).toBe(true);
    expect(roleAtLeast('operator', 'operator')).toBe(true);
    expect(roleAtLeast('operator', 'admin')).toBe(false);
    expect(roleAtLeast('reader', 'operator')).toBe(false);
  });
});

describe('enforcement in Actions.apply', () => {
  test('a reader is refused with the role needed, nothing changes, and the refusal is audited', () => {
    const w = world();
    const r = w.as('bob', 'reader').apply(weightOp(0));
    expect(r).toMatchObject({ok: false, refused: true});
    expect(r.message).toBe('refused: needs the operator role (bob is a reader): ipvsadm -e -t 10.0.0.1:80 -r 10.1.0.11:8080 -m -w 0');
    expect(w.weightOf()).toBe(3);
    expect(w.audit.list()).toMatchObject([{
      user: 'bob', role: 'reader', op: 'edit-dest', ok: false, outcome: 'refused', result: 'needs operator',
      old: {weight: 3}, new: {weight: 0}, change: 'weight 3 → 0', session: 1, from: 'test',
    }]);
    // every other kind is refused to a reader too, and the engine is untouched
    const before = JSON.stringify(w.backend.snapshot().services);
    const ops: Op[] = [
      {op: 'set-tunable', name: 'drop_entry', value: '3'}, {op: 'flush'}, {op: 'pause', paused: true}, {op: 'speed', speed: 10},
      {op: 'traffic-add', spec: {kind: 'synflood', to: '10.0.0.1:80', rate: 100}}, {op: 'del-service', key: WEB},
      {op: 'server-failed', rs: '10.1.0.11:8080', failed: true}, {op: 'timeouts', tcp: 1, tcpfin: 1, udp: 1},
    ];
    for (const op of ops) expect(w.as('bob', 'reader').apply(op)).toMatchObject({ok: false, refused: true});
    expect(JSON.stringify(w.backend.snapshot().services)).toBe(before);
    expect(w.backend.clock().paused).toBe(false);
    expect(w.backend.generators().map((g) => g.kind)).not.toContain('synflood');
    expect(w.audit.list().every((e) => e.outcome === 'refused')).toBe(true);
  });

  test('an operator changes weights, defenses, attacks and the clock but not services or other tunables', () => {
    const w = world();
    const op = w.as('alice', 'operator');
    expect(op.apply(weightOp(0)).ok).toBe(true);
    expect(w.weightOf()).toBe(0);
    expect(op.apply({op: 'set-tunable', name: 'drop_entry', value: '0'}).ok).toBe(true);
    expect(op.apply({op: 'pause', paused: true}).ok).toBe(true);
    expect(op.apply({op: 'traffic-add', spec: {kind: 'synflood', to: '10.0.0.1:80', rate: 100}}).ok).toBe(true);
    const denied = op.apply({op: 'del-service', key: WEB});
    expect(denied.message).toMatch(/^refused: needs the admin role \(alice is an operator\): ipvsadm -D -t 10\.0\.0\.1:80$/);
    expect(op.apply({op: 'set-tunable', name: 'amemthresh', value: '1'}).refused).toBe(true);
    expect(op.apply({op: 'edit-dest', key: WEB, addr: RS11, port: 8080, opts: {fwd: 'route', weight: 1}}).refused).toBe(true);
    expect(w.backend.snapshot().services.length).toBe(3);
    const entries = w.audit.list();
    expect(entries.map((e) => [e.op, e.outcome])).toEqual([
      ['edit-dest', 'ok'], ['set-tunable', 'ok'], ['pause', 'ok'], ['traffic-add', 'ok'],
      ['del-service', 'refused'], ['set-tunable', 'refused'], ['edit-dest', 'refused'],
    ]);
    expect(entries[0]).toMatchObject({old: {weight: 3}, new: {weight: 0}, change: 'weight 3 → 0', target: 'real server 10.1.0.11:8080 of -t 10.0.0.1:80'});
    expect(entries[1]).toMatchObject({old: {drop_entry: '1'}, new: {drop_entry: '0'}, change: 'drop_entry 1 → 0', target: 'net.ipv4.vs.drop_entry'});
    expect(entries[2]).toMatchObject({old: {paused: false}, new: {paused: true}, change: 'paused false → true'});
    expect(entries[3]).toMatchObject({old: null, new: {kind: 'synflood', to: '10.0.0.1:80', rate: 100, running: true}});
    expect(entries[3]!.target).toMatch(/^generator synflood-\d+$/);
    for (const e of entries) {
      expect(e.wall).toBeGreaterThan(Date.now() - 60_000);
      expect(e.virtual).toBeGreaterThanOrEqual(3000);
    }
  });

  test('an admin does everything; a failed change is audited as failed with the engine\'s message', () => {
    const w = world();
    const ad = w.as('root', 'admin');
    expect(ad.apply({op: 'set-tunable', name: 'amemthresh', value: '2048'}).ok).toBe(true);
    expect(ad.apply({op: 'del-dest', key: WEB, addr: RS11, port: 8080}).ok).toBe(true);
    const bad = ad.apply({op: 'set-tunable', name: 'drop_entry', value: '7'});
    expect(bad.ok).toBe(false);
    expect(bad.refused).toBeUndefined();
    const e = w.audit.list();
    expect(e[0]).toMatchObject({change: 'amemthresh 1024 → 2048', outcome: 'ok'});
    expect(e[1]).toMatchObject({old: {fwd: 'masq', weight: 3}, new: null, change: expect.stringMatching(/^removed: fwd masq, weight 3/)});
    expect(e[2]).toMatchObject({outcome: 'failed', ok: false, old: {drop_entry: '1'}, new: {drop_entry: '7'}});
    expect(e[2]!.result).toMatch(/invalid value '7'/);
  });

  test('--read-only (a local watch-only choice) keeps its message and is not audited', () => {
    const w = world();
    const ro = new Actions({backend: w.backend, audit: w.audit, user: 'me', readOnly: true});
    expect(ro.apply(weightOp(0))).toEqual({ok: false, message: 'read-only session: "ipvsadm -e -t 10.0.0.1:80 -r 10.1.0.11:8080 -m -w 0" is disabled'});
    expect(w.audit.list()).toHaveLength(0);
    expect(ro.role).toBe('admin');
  });

  test('describeChange', () => {
    expect(describeChange({weight: 3, fwd: 'masq'}, {weight: 0, fwd: 'masq'})).toBe('weight 3 → 0');
    expect(describeChange({a: 1}, {a: 1})).toBe('unchanged (a 1)');
    expect(describeChange(null, {kind: 'synflood'})).toBe('new: kind synflood');
    expect(describeChange({x: 'a b'}, null)).toBe('removed: x "a b"');
    expect(describeChange(null, null)).toBe('');
  });
});

describe('sessions on one backend', () => {
  test('another session\'s change is published at once (even paused), with who made it; presence lists everyone', () => {
    const w = world();
    const presence = new Presence();
    const mk = (user: string, role: Role) => {
      const id = presence.allocate();
      presence.join({id, user, role, from: `ssh 127.0.0.1:${1000 + id}`, since: Date.now(), cols: 100, rows: 30, backlogged: false});
      return new UiSession({backend: w.backend, audit: w.audit, user, role, sessionId: id, presence, from: 'ssh', size: {cols: 100, rows: 30}});
    };
    const alice = mk('alice', 'operator');
    const bob = mk('bob', 'reader');
    alice.apply({op: 'pause', paused: true});
    bob.refresh();
    expect(bob.state.clock.paused).toBe(true);
    expect(bob.state.peers.map((p) => [p.user, p.role])).toEqual([['alice', 'operator'], ['bob', 'reader']]);
    alice.apply(weightOp(0));
    bob.refresh(); // no virtual time passed: only the audit says something changed
    expect(bob.state.snap!.services[0]!.dests.find((d) => d.label === '10.1.0.11:8080')!.weight).toBe(0);
    expect(bob.state.message).toMatchObject({kind: 'info', text: expect.stringMatching(/^alice \(operator\): ipvsadm -e .* -w 0 {2}\[weight 3 → 0\]$/)});
    expect(bob.state.audit.at(-1)).toMatchObject({user: 'alice', outcome: 'ok'});
    // the reader's own attempt: refused, shown as a warning, nothing changes
    const r = bob.apply(weightOp(5));
    expect(r.ok).toBe(false);
    expect(bob.state.message).toMatchObject({kind: 'warn', text: expect.stringMatching(/^refused: needs the operator role \(bob is a reader\)/)});
    expect(w.weightOf()).toBe(0);
    // alice does not get a notification for her own change, but sees bob's refusal in the audit
    alice.refresh();
    expect(alice.state.audit.at(-1)).toMatchObject({user: 'bob', outcome: 'refused'});
    presence.leave(bob.sessionId);
    alice.refresh();
    expect(alice.state.peers.map((p) => p.user)).toEqual(['alice']);
  });

  test('Tab cycles the six main views; 7 (Who/Audit) is reached by key and Tab leaves it to Dashboard', () => {
    const w = world();
    const s = new UiSession({backend: w.backend, audit: w.audit});
    s.setView('log');
    s.cycleView(1);
    expect(s.state.view).toBe('dashboard');
    s.setView('audit');
    s.cycleView(1);
    expect(s.state.view).toBe('dashboard');
    s.setView('audit');
    s.cycleView(-1);
    expect(s.state.view).toBe('log');
  });
});
