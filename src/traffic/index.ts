// Scenario files' `traffic:` and `events:` entries, turned into drivers the scenario runner merges
// on virtual time (the hook of src/traffic/hook.ts).
//
//   traffic: - {at: 10s, for: 30s, kind: synflood, to: 10.0.0.1:80, rate: 20000, from: 198.18.0.0/15}
//   events:  - {at: 20s, kind: fail, server: 10.1.0.11:8080}
//            - {at: 25s, kind: quiesce|restore|remove|weight, service: 10.0.0.1:80, proto: tcp,
//               server: 10.1.0.11:8080, weight: 2}
// Keys of a traffic entry besides at/for are those of GeneratorSpec (see generators.ts).
import {parseAddrPort} from '../engine/addr.js';
import type {Engine} from '../engine/engine.js';
import type {ServiceKey} from '../engine/types.js';
import type {TrafficContext, TrafficDriver, TrafficEntry, TrafficHook} from './hook.js';
import {parseTime, UnitError} from '../util/units.js';
import {GENERATOR_KINDS, Generator, GeneratorError, type GeneratorSpec} from './generators.js';

const TRAFFIC_KEYS = new Set(['at', 'for', 'kind', 'to', 'rate', 'from', 'request', 'response', 'hold', 'close',
  'rttMs', 'clients', 'ports', 'reuseAfter', 'len', 'maxPending', 'arrivals', 'proto']);
const EVENT_KINDS = ['fail', 'recover', 'remove', 'quiesce', 'restore', 'weight'] as const;
type EventKind = (typeof EVENT_KINDS)[number];
const EVENT_KEYS = new Set(['at', 'kind', 'server', 'service', 'proto', 'weight']);

function asRecord(e: TrafficEntry, ctx: TrafficContext): Record<string, unknown> {
  if (typeof e.spec !== 'object' || e.spec === null || Array.isArray(e.spec)) {
    throw ctx.error(`${e.key}[${e.index}]: expected a mapping like {at: 10s, kind: ...}`, e.pos);
  }
  return e.spec as Record<string, unknown>;
}

function time(e: TrafficEntry, ctx: TrafficContext, r: Record<string, unknown>, key: string, dflt: number): number {
  if (r[key] === undefined) return dflt;
  try {
    return parseTime(r[key]);
  } catch (err) {
    throw ctx.error(`${e.key}[${e.index}].${key}: ${(err as UnitError).message}`, e.keyPos[key] ?? e.pos);
  }
}

function trafficDriver(e: TrafficEntry, ctx: TrafficContext, failed: Set<string>, n: number): TrafficDriver {
  const r = asRecord(e, ctx);
  for (const k of Object.keys(r)) {
    if (!TRAFFIC_KEYS.has(k)) throw ctx.error(`traffic[${e.index}]: unknown key '${k}' (${[...TRAFFIC_KEYS].join(', ')})`, e.keyPos[k] ?? e.pos);
  }
  if (typeof r.kind !== 'string' || !(GENERATOR_KINDS as readonly string[]).includes(r.kind)) {
    throw ctx.error(`traffic[${e.index}].kind: expected one of ${GENERATOR_KINDS.join(', ')}`, e.keyPos.kind ?? e.pos);
  }
  const at = time(e, ctx, r, 'at', ctx.startMs);
  const dur = time(e, ctx, r, 'for', Infinity);
  const spec: Record<string, unknown> = {...r};
  delete spec.at;
  delete spec.for;
  for (const k of ['hold', 'reuseAfter'] as const) {
    if (spec[k] !== undefined) spec[k] = time(e, ctx, r, k, 0) / 1000; // generator wants seconds
  }
  let g: Generator;
  try {
    g = new Generator(`${r.kind}-${e.index}`, spec as unknown as GeneratorSpec, (ctx.seed * 1_000_003 + n * 7919) >>> 0, at, failed);
  } catch (err) {
    if (err instanceof GeneratorError) {
      throw ctx.error(`traffic[${e.index}]${err.field ? '' : ': '}${err.field ? `.${err.message}` : err.message}`, (err.field && e.keyPos[err.field]) || e.pos);
    }
    throw err;
  }
  g.stopAt = at + dur;
  g.sink = (dir, p) => ctx.send(dir, p, g.id);
  return {
    nextTime: () => g.nextTime(),
    fire: (engine, now) => g.fire(engine, now),
    summary: () => ({id: g.id, kind: g.spec.kind, to: g.spec.to, rate: g.spec.rate, ...g.stats}),
  };
}

function eventDriver(e: TrafficEntry, ctx: TrafficContext, failed: Set<string>, saved: Map<string, number>): TrafficDriver {
  const r = asRecord(e, ctx);
  for (const k of Object.keys(r)) {
    if (!EVENT_KEYS.has(k)) throw ctx.error(`events[${e.index}]: unknown key '${k}' (${[...EVENT_KEYS].join(', ')})`, e.keyPos[k] ?? e.pos);
  }
  const kind = r.kind as EventKind;
  if (!EVENT_KINDS.includes(kind)) {
    throw ctx.error(`events[${e.index}].kind: expected one of ${EVENT_KINDS.join(', ')}`, e.keyPos.kind ?? e.pos);
  }
  const at = time(e, ctx, r, 'at', ctx.startMs);
  const server = typeof r.server === 'string' ? parseAddrPort(r.server, true) : null;
  if (!server) throw ctx.error(`events[${e.index}].server: expected ADDR:PORT`, e.keyPos.server ?? e.pos);
  let key: ServiceKey | null = null;
  if (kind !== 'fail' && kind !== 'recover') {
    const vip = typeof r.service === 'string' ? parseAddrPort(r.service) : null;
    if (!vip) throw ctx.error(`events[${e.index}].service: expected VIP:PORT`, e.keyPos.service ?? e.pos);
    const proto = r.proto ?? 'tcp';
    if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') {
      throw ctx.error(`events[${e.index}].proto: expected tcp, udp or sctp`, e.keyPos.proto ?? e.pos);
    }
    key = {kind: 'addr', af: vip.af, proto, addr: vip.addr, port: vip.port};
  }
  if (kind === 'weight' && !(Number.isInteger(r.weight) && (r.weight as number) >= 0)) {
    throw ctx.error(`events[${e.index}].weight: expected a whole number >= 0`, e.keyPos.weight ?? e.pos);
  }
  const serverKey = `${server.addr}|${server.port}`;
  let done = false;
  const apply = (engine: Engine) => {
    if (kind === 'fail' || kind === 'recover') {
      if (kind === 'fail') failed.add(serverKey);
      else failed.delete(serverKey);
      ctx.note('event', `${kind} ${r.server}`);
      return;
    }
    try {
      const svc = engine.getService(key!);
      const d = svc && engine.findDest(svc, server.addr, server.port);
      if (kind === 'remove') engine.delDest(key!, server.addr, server.port);
      else if (d) {
        let weight = d.weight;
        if (kind === 'quiesce') { saved.set(serverKey, d.weight); weight = 0; }
        else if (kind === 'restore') weight = saved.get(serverKey) ?? (d.lastWeight || 1);
        else weight = r.weight as number;
        engine.editDest(key!, d.addr, d.port, {fwd: d.fwd, weight, uThreshold: d.uThreshold, lThreshold: d.lThreshold});
      } else {
        throw new Error(`no real server ${r.server} in ${r.service}`);
      }
      ctx.note('event', `${kind} ${r.server} in ${r.service}`);
    } catch (err) {
      ctx.note('event', `${kind} ${r.server} failed: ${(err as Error).message}`);
    }
  };
  return {
    nextTime: () => (done ? Infinity : at),
    fire: (engine) => { done = true; apply(engine); },
  };
}

export const trafficHook: TrafficHook = (entries, ctx) => {
  const failed = new Set<string>();
  const saved = new Map<string, number>();
  return entries.map((e, n) => (e.key === 'traffic' ? trafficDriver(e, ctx, failed, n) : eventDriver(e, ctx, failed, saved)));
};
