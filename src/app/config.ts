// `lvsdeck --config FILE`: start the live UI from the user's own setup instead of the demo.
//   - an ipvsadm-save / ipvsadm -R file (every line an ipvsadm command): the rules are applied with
//     src/ipvsadm's ipvsadm semantics, and since such a file describes no traffic, steady client
//     sessions are added to each TCP/UDP service so there is something to watch;
//   - a scenario file (YAML, src/scenario): seed, memory, sysctl, rules, traffic (generators shown
//     in the Attacks/Traffic view, started and stopped at their at/for times), events and timed
//     ipvsadm/sysctl actions run on virtual time. Exact packets, sessions and reports belong to
//     batch runs (`lvsdeck run FILE`) and are skipped here.
import {BOUNDS, fileErrorText, readBoundedFile} from '../util/bounds.js';
import {formatAddrPort, parseAddrPort} from '../engine/addr.js';
import type {ServiceKey} from '../engine/types.js';
import {restoreLines, runIpvsadm} from '../ipvsadm/exec.js';
import {IpvsadmExit} from '../ipvsadm/errors.js';
import {parseScenario} from '../scenario/load.js';
import {ScenarioError, type TrafficEntry} from '../scenario/types.js';
import {parseTime} from '../scenario/units.js';
import {Simulation} from '../sim/simulation.js';
import type {GeneratorSpec} from '../traffic/generators.js';

export class ConfigError extends Error {}

export interface LoadedConfig {
  sim: Simulation;
  kind: 'ipvsadm' | 'scenario';
  /** Things the operator should know (shown at startup). */
  notes: string[];
}

export interface ConfigDefaults {
  seed: number;
  memory: {totalBytes: number; usedBytes: number};
  /** The user gave --memory / --seed: they win over the file's. */
  memoryGiven?: boolean;
  seedGiven?: boolean;
}

/** Every non-blank, non-comment line is an ipvsadm command. */
export function looksLikeIpvsadm(text: string): boolean {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  return lines.length > 0 && lines.every((l) => l.startsWith('-') || /^ipvsadm(\s|$)/.test(l));
}

export function loadConfig(path: string, d: ConfigDefaults): LoadedConfig {
  let text: string;
  try {
    text = readBoundedFile(path, BOUNDS.configFileBytes);
  } catch (err) {
    throw new ConfigError(`--config ${path}: ${fileErrorText(err)}`);
  }
  return looksLikeIpvsadm(text) ? fromIpvsadm(path, text, d) : fromScenario(path, text, d);
}

function fromIpvsadm(path: string, text: string, d: ConfigDefaults): LoadedConfig {
  const sim = new Simulation({seed: d.seed, memory: d.memory});
  let lines;
  try {
    lines = restoreLines(text);
  } catch (err) {
    if (err instanceof IpvsadmExit) throw new ConfigError(`${path}: ${err.stderr.trim()}`);
    throw err;
  }
  for (const l of lines) {
    const r = runIpvsadm(sim.engine, l.words);
    if (r.code !== 0) throw new ConfigError(`${path}:${l.line}: ipvsadm ${l.words.join(' ')}: ${r.stderr.trim() || `exit status ${r.code}`}`);
  }
  const notes: string[] = [];
  let n = 0;
  for (const svc of sim.engine.listServices()) {
    if (svc.key.kind !== 'addr' || svc.key.proto === 'sctp') continue;
    const to = formatAddrPort(svc.key.addr, svc.key.port);
    const spec: GeneratorSpec = svc.key.proto === 'udp'
      ? {kind: 'clients', proto: 'udp', to, rate: 50, request: 60, response: 200}
      : {kind: 'clients', to, rate: 50, request: 300, response: 12000, hold: 2};
    if (svc.key.af === 6) spec.from = '2001:db8:c::/64';
    try {
      sim.addTraffic(spec);
      n++;
    } catch (err) {
      notes.push(`no client traffic for ${to}: ${(err as Error).message}`);
    }
  }
  notes.unshift(`${path}: ${lines.length} ipvsadm rules; ${n ? `50 client sessions/s added per service (${n})` : 'no traffic'} (5 and a add more)`);
  return {sim, kind: 'ipvsadm', notes};
}

function fromScenario(path: string, text: string, d: ConfigDefaults): LoadedConfig {
  let sc;
  try {
    sc = parseScenario(text, path);
  } catch (err) {
    if (err instanceof ScenarioError) throw new ConfigError(err.format(path));
    throw err;
  }
  const seed = d.seedGiven || !sc.seed ? d.seed : sc.seed;
  const memory = d.memoryGiven || !sc.memory ? d.memory : sc.memory;
  const sim = new Simulation({seed, memory});
  const e = sim.engine;
  const at = (pos: {line: number; col: number}) => `${path}:${pos.line}:${pos.col}`;
  for (const s of sc.sysctl) {
    const r = e.setTunable(s.name, s.value);
    if (!r.ok) throw new ConfigError(`${at(s.pos)}: sysctl ${s.name} = ${s.value}: ${r.error}`);
  }
  for (const rule of sc.rules) {
    const r = runIpvsadm(e, rule.words);
    if (r.code !== 0) throw new ConfigError(`${at(rule.pos)}: ipvsadm ${rule.words.join(' ')}: ${r.stderr.trim()}`);
  }
  const notes: string[] = [`${path}: scenario "${sc.name || path}"`];
  // timed ipvsadm / sysctl actions; failures are logged by the engine's own messages, not fatal
  for (const a of sc.actions) {
    if (a.kind === 'ipvsadm') sim.at(a.at, (s) => { for (const c of a.commands) runIpvsadm(s.engine, c.words); });
    else if (a.kind === 'sysctl') sim.at(a.at, (s) => { for (const x of a.settings) s.engine.setTunable(x.name, x.value); });
  }
  for (const t of sc.traffic) scheduleTraffic(sim, t, path);
  for (const ev of sc.events) scheduleEvent(sim, ev, path);
  const skipped = [
    sc.packets.length ? `${sc.packets.length} packets` : '', sc.sessions.length ? `${sc.sessions.length} sessions` : '',
    sc.report.length || sc.actions.some((a) => a.kind === 'report') ? 'reports' : '',
  ].filter(Boolean);
  if (skipped.length) notes.push(`skipped in the live UI: ${skipped.join(', ')} (lvsdeck run ${path} runs them)`);
  return {sim, kind: 'scenario', notes};
}

function record(t: TrafficEntry, path: string): Record<string, unknown> {
  if (typeof t.spec !== 'object' || t.spec === null || Array.isArray(t.spec)) {
    throw new ConfigError(`${path}:${t.pos.line}:${t.pos.col}: ${t.key}[${t.index}]: expected a mapping`);
  }
  return t.spec as Record<string, unknown>;
}

function timeOf(r: Record<string, unknown>, key: string, dflt: number, t: TrafficEntry, path: string): number {
  if (r[key] === undefined) return dflt;
  try {
    return parseTime(r[key]);
  } catch (err) {
    const p = t.keyPos[key] ?? t.pos;
    throw new ConfigError(`${path}:${p.line}:${p.col}: ${t.key}[${t.index}].${key}: ${(err as Error).message}`);
  }
}

/** A `traffic:` entry becomes a generator of the mixer from `at`, stopped after `for`. */
function scheduleTraffic(sim: Simulation, t: TrafficEntry, path: string): void {
  const r = record(t, path);
  const start = timeOf(r, 'at', 0, t, path);
  const dur = timeOf(r, 'for', Infinity, t, path);
  const spec: Record<string, unknown> = {...r};
  delete spec.at;
  delete spec.for;
  for (const k of ['hold', 'reuseAfter']) if (spec[k] !== undefined) spec[k] = timeOf(r, k, 0, t, path) / 1000;
  const id = `${String(r.kind)}-${t.index}`;
  const begin = (s: Simulation) => {
    try {
      const g = s.addTraffic(spec as unknown as GeneratorSpec, id);
      if (Number.isFinite(dur)) s.at(start + dur, () => g.stop());
    } catch (err) {
      throw new ConfigError(`${path}:${t.pos.line}:${t.pos.col}: traffic[${t.index}]: ${(err as Error).message}`);
    }
  };
  if (start <= sim.now) begin(sim);
  else {
    // validate now, so a bad entry fails at startup rather than minutes later
    try {
      new Simulation().addTraffic({...(spec as unknown as GeneratorSpec)});
    } catch (err) {
      throw new ConfigError(`${path}:${t.pos.line}:${t.pos.col}: traffic[${t.index}]: ${(err as Error).message}`);
    }
    sim.at(start, begin);
  }
}

/** An `events:` entry: fail/recover a server, or quiesce/restore/remove/re-weight it, at its time. */
function scheduleEvent(sim: Simulation, t: TrafficEntry, path: string): void {
  const r = record(t, path);
  const when = timeOf(r, 'at', 0, t, path);
  const kind = String(r.kind);
  const server = typeof r.server === 'string' ? r.server : '';
  const where = `${path}:${t.pos.line}:${t.pos.col}: events[${t.index}]`;
  const rs = parseAddrPort(server, true);
  if (!rs) throw new ConfigError(`${where}.server: expected ADDR:PORT`);
  if (kind === 'fail' || kind === 'recover') {
    sim.at(when, (s) => s.traffic.setServerFailed(server, kind === 'fail'));
    return;
  }
  const vip = typeof r.service === 'string' ? parseAddrPort(r.service) : null;
  if (!vip) throw new ConfigError(`${where}.service: expected VIP:PORT`);
  const proto = (r.proto ?? 'tcp') as 'tcp' | 'udp' | 'sctp';
  const key: ServiceKey = {kind: 'addr', af: vip.af, proto, addr: vip.addr, port: vip.port};
  if (!['quiesce', 'restore', 'remove', 'weight'].includes(kind)) {
    throw new ConfigError(`${where}.kind: expected fail, recover, quiesce, restore, remove or weight`);
  }
  sim.at(when, (s) => {
    const e = s.engine;
    const svc = e.getService(key);
    const d = svc && e.findDest(svc, rs.addr, rs.port);
    if (!d) return;
    if (kind === 'remove') { e.delDest(key, rs.addr, rs.port); return; }
    const weight = kind === 'quiesce' ? 0 : kind === 'restore' ? d.lastWeight || 1 : Number(r.weight);
    e.editDest(key, d.addr, d.port, {fwd: d.fwd, weight, uThreshold: d.uThreshold, lThreshold: d.lThreshold});
  });
}
