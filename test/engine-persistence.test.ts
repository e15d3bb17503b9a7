import {describe, expect, it} from 'vitest';
import {formatAddrPort} from '../src/engine/addr.js';
import {Bench, S, svcKey} from './helpers/engine-fixture.js';

const VIP = '198.51.100.1:80';

function persistent(timeoutS: number, opts: {netmask?: number; scheduler?: string} = {}) {
  const b = new Bench();
  const key = svcKey('tcp', VIP);
  b.service('tcp', VIP, {scheduler: opts.scheduler ?? 'rr', persistTimeout: timeoutS * S, netmask: opts.netmask});
  const a = b.dest(key, '10.1.0.1:80', {fwd: 'masq'});
  const bb = b.dest(key, '10.1.0.2:80', {fwd: 'masq'});
  return {b, key, a, bb};
}

describe('persistence (ip_vs_sched_persist)', () => {
  it('a template keyed (proto, client, 0, vip, vport) pins the client to one server', () => {
    const {b} = persistent(300);
    const first = b.in('tcp', '192.0.2.10:1000', VIP, 'S').dest!;
    for (let port = 1001; port < 1010; port++) {
      expect(b.in('tcp', `192.0.2.10:${port}`, VIP, 'S').dest).toBe(first);
    }
    const tpl = b.templates();
    expect(tpl).toHaveLength(1);
    expect(tpl[0]).toMatchObject({cport: 0, vport: 80, dport: 80, stateName: 'NONE', nControl: 10});
    expect(first.persistConns).toBe(1);
    expect(first.activeConns).toBe(10);
  });

  it('the netmask groups clients: a /24 shares one template', () => {
    const {b} = persistent(300, {netmask: 0xffffff00});
    const d1 = b.in('tcp', '192.0.2.10:1000', VIP, 'S').dest;
    const d2 = b.in('tcp', '192.0.2.99:1000', VIP, 'S').dest;
    expect(d2).toBe(d1);
    expect(b.templates()[0]!.caddr).toBe(0xc0000200);
  });

  it('the template turns ASSURED when a controlled TCP connection reaches ESTABLISHED', () => {
    const {b} = persistent(300);
    b.in('tcp', '192.0.2.10:1000', VIP, 'S');
    expect(b.templates()[0]!.stateName).toBe('NONE');
    b.in('tcp', '192.0.2.10:1000', VIP, 'A');
    expect(b.templates()[0]!.stateName).toBe('ASSURED');
  });

  it('the template timer is refreshed only by new connections, not by packets of existing ones', () => {
    const {b} = persistent(10);
    b.in('tcp', '192.0.2.10:1000', VIP, 'S');
    b.in('tcp', '192.0.2.10:1000', VIP, 'A');
    b.at(5);
    b.in('tcp', '192.0.2.10:1000', VIP, 'PA');
    b.at(5.5);
    expect(Math.floor(b.templates()[0]!.expiresIn / S)).toBe(4); // shows 00:04
  });

  it('a template still controlling connections is deferred in 60 s steps and keeps the 60 s timeout', () => {
    // ip_vs_sched_persist / ip_vs_conn_expire, -p 10: conn 1 at t=0 held open; at t=10 deferred to t=70; conn 2 at t=12 -> t=72
    const {b} = persistent(10);
    b.in('tcp', '192.0.2.10:1000', VIP, 'S');
    b.in('tcp', '192.0.2.10:1000', VIP, 'A');
    b.at(10);
    expect(b.templates()[0]!.expiresIn).toBe(60 * S);
    b.at(12);
    b.in('tcp', '192.0.2.10:1001', VIP, 'S');
    expect(b.templates()[0]!.expiresIn).toBe(60 * S); // 00:59 shown: re-armed for 60 s, not 10
    expect(b.templates()[0]!.timeout).toBe(60 * S);
  });

  it('two short connections: template fires at 15, 75, and is removed at 135 once it controls nothing', () => {
    const {b} = persistent(10);
    const close = (port: number) => {
      const c = `192.0.2.10:${port}`;
      b.in('tcp', c, VIP, 'S');
      const conn = b.conn('tcp', c, VIP)!;
      const rs = formatAddrPort(conn.daddr, conn.dport);
      b.out('tcp', rs, c, 'SA');
      b.in('tcp', c, VIP, 'A');
      b.out('tcp', rs, c, 'FA'); b.in('tcp', c, VIP, 'FA'); b.out('tcp', rs, c, 'A');
      expect(b.state('tcp', c, VIP)).toBe('TIME_WAIT');
    };
    close(1000);
    b.at(5);
    close(1001);
    expect(Math.floor((b.templates()[0]!.expiresIn - 1) / S)).toBe(9);
    b.at(20);
    expect(Math.floor(b.templates()[0]!.expiresIn / S)).toBe(55);
    b.at(75);
    expect(b.templates()[0]!.expiresIn).toBe(60 * S);
    b.at(134.9);
    expect(b.templates()).toHaveLength(1);
    b.at(135);
    expect(b.templates()).toHaveLength(0);
    expect(b.e.table.count).toBe(0);
  });

  it('expire_quiescent_template=1: a quiesced server\'s template is invalidated (ports 65535) and a new one made', () => {
    const {b, key} = persistent(60);
    const d = b.in('tcp', '192.0.2.10:1000', VIP, 'S').dest!;
    b.e.setTunable('expire_quiescent_template', '1');
    b.e.editDest(key, d.addr, d.port, {fwd: 'masq', weight: 0});
    b.at(20.5);
    const v = b.in('tcp', '192.0.2.10:1001', VIP, 'S');
    expect(v.dest).not.toBe(d);
    const tpls = b.templates();
    expect(tpls).toHaveLength(2);
    const old = tpls.find((t) => t.vport === 65535)!;
    expect(old).toMatchObject({dport: 65535, cport: 0});
    expect(Math.floor(old.expiresIn / S)).toBe(39); // keeps its old timer: 00:39
    const fresh = tpls.find((t) => t.vport === 80)!;
    expect(Math.floor((fresh.expiresIn - 1) / S)).toBe(59);
    expect(d.persistConns).toBe(1); // still bound to the quiesced server
  });

  it('expire_quiescent_template=0: the quiesced server keeps receiving the persistent client', () => {
    const {b, key} = persistent(60);
    const d = b.in('tcp', '192.0.2.10:1000', VIP, 'S').dest!;
    b.e.editDest(key, d.addr, d.port, {fwd: 'masq', weight: 0});
    expect(b.in('tcp', '192.0.2.10:1001', VIP, 'S').dest).toBe(d);
  });

  it('a fwmark service pins everything with the mark: template protocol IP, vaddr = mark, ports 0', () => {
    const b = new Bench();
    b.fwmarkService(7, {scheduler: 'rr', persistTimeout: 300 * S});
    const key = {kind: 'fwmark', af: 4, fwmark: 7} as const;
    b.dest(key, '10.1.0.1:0', {fwd: 'route'});
    b.dest(key, '10.1.0.2:0', {fwd: 'route'});
    const v1 = b.in('tcp', '192.0.2.10:1000', '198.51.100.5:443', 'S', {fwmark: 7});
    const v2 = b.in('udp', '192.0.2.10:1001', '198.51.100.6:53', '', {fwmark: 7});
    expect(v2.dest).toBe(v1.dest);
    const t = b.templates()[0]!;
    expect(t).toMatchObject({protoName: 'IP', fwmarkTemplate: true, vaddr: 7, vport: 0, dport: 0});
    // the real connection keeps the client's destination port (dest port 0)
    expect(b.conn('tcp', '192.0.2.10:1000', '198.51.100.5:443')!.dport).toBe(443);
  });

  it('a port-0 persistent service pins all ports of the VIP for a client; non-persistent port 0 never schedules', () => {
    const b = new Bench();
    b.service('tcp', '198.51.100.9:0', {scheduler: 'rr', persistTimeout: 100 * S});
    b.dest(svcKey('tcp', '198.51.100.9:0'), '10.1.0.1:0', {fwd: 'route'});
    b.dest(svcKey('tcp', '198.51.100.9:0'), '10.1.0.2:0', {fwd: 'route'});
    const d1 = b.in('tcp', '192.0.2.1:1000', '198.51.100.9:80', 'S').dest;
    const d2 = b.in('tcp', '192.0.2.1:1001', '198.51.100.9:443', 'S').dest;
    expect(d2).toBe(d1);
    expect(b.templates()[0]!.vport).toBe(0);

    const c = new Bench();
    c.service('tcp', '198.51.100.9:0', {scheduler: 'rr'});
    c.dest(svcKey('tcp', '198.51.100.9:0'), '10.1.0.1:0', {fwd: 'route'});
    expect(c.in('tcp', '192.0.2.1:1000', '198.51.100.9:80', 'S')).toMatchObject({action: 'drop', reason: 'no-destination'});
  });

  it('a persistent FTP service shares one template (vport 0) between control and data connections', () => {
    const b = new Bench();
    b.service('tcp', '198.51.100.2:21', {scheduler: 'rr', persistTimeout: 300 * S});
    b.dest(svcKey('tcp', '198.51.100.2:21'), '10.1.0.1:21', {fwd: 'route'});
    b.dest(svcKey('tcp', '198.51.100.2:21'), '10.1.0.2:21', {fwd: 'route'});
    const ctrl = b.in('tcp', '192.0.2.1:3000', '198.51.100.2:21', 'S');
    const data = b.in('tcp', '192.0.2.1:3001', '198.51.100.2:50000', 'S'); // passive data via FTP fallback lookup
    expect(data.dest).toBe(ctrl.dest);
    expect(b.templates()).toHaveLength(1);
    expect(b.templates()[0]!.vport).toBe(0);
  });
});
