// The state file's schema: a hand-edited file with a field of the wrong type or out of range is
// refused with a StateError naming the field (ranges as ipvsadm checks them: weight 0..65535,
// fwmark 1..2^32-1, ports 0..65535), never accepted as garbage and never a JS internal message.
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {StateError, captureState, engineFromState} from '../src/ipvsadm/state.js';
import {box} from './helpers/ipvsadm.js';

const good = () => captureState(box(
  '-A -t 10.0.0.1:80 -s wrr', '-a -t 10.0.0.1:80 -r 10.1.0.1 -m -w 3', '-A -f 7 -s rr',
  '--start-daemon backup --mcast-interface lo --syncid 4',
)) as unknown as {services: Record<string, unknown>[] & {dests: Record<string, unknown>[]}[]; daemons: Record<string, unknown>[]} & Record<string, unknown>;

function refused(edit: (s: ReturnType<typeof good>) => void): string {
  const s = good();
  edit(s);
  try {
    engineFromState(JSON.parse(JSON.stringify(s)));
  } catch (err) {
    expect(err).toBeInstanceOf(StateError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

const dest = (s: ReturnType<typeof good>) => (s.services[0]!.dests as Record<string, unknown>[])[0]!;

describe('state file schema (each refusal names the field)', () => {
  it('weight "abc", 65536 and -1 (ipvsadm: weight 0..65535)', () => {
    expect(refused((s) => { dest(s).weight = 'abc'; })).toBe('services[0].dests[0].weight: expected a whole number 0..65535, got "abc"');
    expect(refused((s) => { dest(s).weight = 65536; })).toBe('services[0].dests[0].weight: expected a whole number 0..65535, got 65536');
    expect(refused((s) => { dest(s).weight = -1; })).toMatch(/^services\[0\]\.dests\[0\]\.weight: /);
  });

  it('fwd "bogus"', () => {
    expect(refused((s) => { dest(s).fwd = 'bogus'; })).toBe('services[0].dests[0].fwd: expected one of masq, route, tunnel, local, got "bogus"');
  });

  it('fwmark 0 (ipvsadm refuses a zero mark) and 2^32', () => {
    expect(refused((s) => { s.services[1]!.fwmark = 0; })).toBe('services[1].fwmark: expected a whole number 1..4294967295, got 0');
    expect(refused((s) => { s.services[1]!.fwmark = 2 ** 32; })).toMatch(/^services\[1\]\.fwmark: /);
  });

  it('ports 70000, -1 and 1.5 on services and real servers', () => {
    for (const p of [70000, -1, 1.5]) {
      expect(refused((s) => { s.services[0]!.port = p; })).toBe(`services[0].port: expected a whole number 0..65535, got ${p}`);
      expect(refused((s) => { dest(s).port = p; })).toBe(`services[0].dests[0].port: expected a whole number 0..65535, got ${p}`);
    }
  });

  it('daemon mcastPort "abc", syncId 256, an over-long interface name, two backups', () => {
    expect(refused((s) => { s.daemons[0]!.mcastPort = 'abc'; })).toBe('daemons[0].mcastPort: expected a whole number 1..65535, got "abc"');
    expect(refused((s) => { s.daemons[0]!.syncId = 256; })).toMatch(/^daemons\[0\]\.syncId: /);
    expect(refused((s) => { s.daemons[0]!.mcastIfn = 'x'.repeat(16); })).toMatch(/^daemons\[0\]\.mcastIfn: /);
    expect(refused((s) => { s.daemons.push({...s.daemons[0]}); })).toBe('daemons: at most one master and one backup');
  });

  it('services, dests and daemons that are not lists; unknown fields; wrong scheduler', () => {
    expect(refused((s) => { s.services = {} as never; })).toBe('services: expected a list, got an object');
    expect(refused((s) => { s.services = 'x' as never; })).toBe('services: expected a list, got "x"');
    expect(refused((s) => { s.services[0]!.dests = 5 as never; })).toBe('services[0].dests: expected a list, got 5');
    expect(refused((s) => { s.daemons = null as never; })).toBe('daemons: expected a list, got null');
    expect(refused((s) => { dest(s).wieght = 3; })).toMatch(/^services\[0\]\.dests\[0\]\.wieght: unknown field/);
    expect(refused((s) => { s.services[0]!.scheduler = 'fast'; })).toMatch(/^services\[0\]\.scheduler: expected one of .*got "fast"/);
  });

  it('a tunnel block on a non-tunnel real server, a bad tunnel type', () => {
    expect(refused((s) => { dest(s).tunnel = {type: 'gue', port: 1, csum: 'none'}; })).toMatch(/tunnel: only a real server with fwd "tunnel"/);
    expect(refused((s) => { dest(s).fwd = 'tunnel'; dest(s).tunnel = {type: 'vxlan'}; })).toMatch(/tunnel\.type: expected one of ipip, gue, gre/);
  });

  it('property: any field replaced by a value of another type is a StateError or a valid engine, never another error', () => {
    const odd = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string(), fc.array(fc.integer(), {maxLength: 2}),
      fc.dictionary(fc.string({maxLength: 3}), fc.integer(), {maxKeys: 2}));
    fc.assert(fc.property(fc.nat(), odd, (pick, value) => {
      const s = good();
      const slots: [Record<string, unknown>, string][] = [];
      const walk = (o: unknown) => {
        if (o && typeof o === 'object') {
          for (const [k, v] of Object.entries(o)) {
            slots.push([o as Record<string, unknown>, k]);
            walk(v);
          }
        }
      };
      walk(s);
      const [o, k] = slots[pick % slots.length]!;
      o[k] = value;
      try {
        engineFromState(JSON.parse(JSON.stringify(s)));
      } catch (err) {
        expect(err).toBeInstanceOf(StateError);
        expect((err as Error).message).not.toMatch(/is not a function|Cannot read|undefined/);
      }
    }), {numRuns: 500});
  });
});
