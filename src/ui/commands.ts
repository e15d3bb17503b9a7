// Operator commands behind keys and the command bar. Each builds an Op and hands it to the
// session, which applies it through the actions module (read-only check, audit, message).
import {formatAddrPort} from '../engine/addr.js';
import type {DefenseName} from '../engine/defense.js';
import type {ActionResult, Op} from '../store/actions.js';
import {describeKey} from '../store/actions.js';
import {ATTACK_DEFAULT_RATE, ATTACK_KINDS, type UiSession} from '../store/session.js';
import {type CommandContext, parseCommand} from './command-bar.js';

export function commandContext(session: UiSession): CommandContext {
  return {
    generators: session.backend.generators(),
    readTunable: (name) => session.backend.tunables().find((t) => t.name === name)?.value ?? null,
    defaultTarget: (kind) => defaultTarget(session, kind),
  };
}

/** Where an attack goes by default: the selected service if it fits, else the first that does. */
export function defaultTarget(session: UiSession, kind: string): string | null {
  const snap = session.state.snap ?? session.backend.snapshot();
  const wantUdp = kind === 'udpflood';
  const fits = (label: string) => (wantUdp ? label.startsWith('UDP') : label.startsWith('TCP'));
  const row = session.selectedServiceRow();
  const sel = row ? snap.services.find((s) => s.id === row.svcId) : undefined;
  const svc = sel && fits(sel.label) ? sel : snap.services.find((s) => fits(s.label));
  if (!svc) return null;
  return svc.label.split(' ')[1] ?? null;
}

/** Run one command-bar line. */
export function runCommandLine(session: UiSession, line: string, o: {fromForm?: boolean} = {}): ActionResult {
  const text = line.trim();
  if (!text) return {ok: false, message: ''};
  if (!o.fromForm) session.pushHistory(text);
  const p = parseCommand(text, commandContext(session));
  if ('error' in p) {
    session.say(p.error, 'error');
    return {ok: false, message: p.error};
  }
  if ('ui' in p) {
    switch (p.ui) {
      case 'quit': session.requestQuit(); break;
      case 'help': session.openOverlay({kind: 'help', scroll: 0}); break;
      case 'view': session.setView(p.view); break;
      case 'show': session.say(p.text, 'info'); break;
    }
    return {ok: true, message: ''};
  }
  let last: ActionResult = {ok: true, message: ''};
  for (const op of p.ops) {
    last = session.apply(op);
    if (!last.ok) break;
  }
  return last;
}

const DEFENSE_NEXT: Record<number, number> = {0: 1, 1: 3, 2: 3, 3: 0};

/** e / p / s: off -> armed (auto, 1) -> always (3) -> off. An auto mode that is ACTIVE (2) goes to always. */
export function cycleDefense(session: UiSession, name: DefenseName): void {
  const snap = session.backend.snapshot();
  const mode = snap.defense[name].mode;
  session.apply({op: 'set-tunable', name, value: String(DEFENSE_NEXT[mode] ?? 0)});
}

/** The selected real server's config, or a message why there is none. */
function selectedDest(session: UiSession) {
  const row = session.selectedServiceRow();
  if (!row || row.kind !== 'dest') {
    session.say('select a real server (j/k) first', 'warn');
    return null;
  }
  const d = session.backend.destConfig(row.destId);
  if (!d) session.say('that real server is gone', 'warn');
  return d;
}

function editWeight(session: UiSession, weight: number): void {
  const d = selectedDest(session);
  if (!d) return;
  session.apply({op: 'edit-dest', key: d.key, addr: d.addr, port: d.port, opts: {...d.opts, weight: Math.max(0, weight)}});
}

export function weightStep(session: UiSession, delta: number): void {
  const d = selectedDest(session);
  if (d) editWeight(session, d.opts.weight + delta);
}

/** Quiesce: weight 0 (existing connections stay, no new ones are scheduled). */
export function quiesce(session: UiSession): void {
  editWeight(session, 0);
}

/** Restore the last non-zero weight. */
export function restore(session: UiSession): void {
  const d = selectedDest(session);
  if (d) editWeight(session, d.opts.weight > 0 ? d.opts.weight : Math.max(1, d.lastWeight));
}

/** d: delete the selected service or real server, after confirmation. */
export function askDelete(session: UiSession): void {
  const row = session.selectedServiceRow();
  if (!row) return;
  let op: Op;
  let text: string;
  if (row.kind === 'dest') {
    const d = session.backend.destConfig(row.destId);
    if (!d) return;
    op = {op: 'del-dest', key: d.key, addr: d.addr, port: d.port};
    text = `Delete real server ${formatAddrPort(d.addr, d.port)} from ${describeKey(d.key)}?`;
  } else {
    const s = session.backend.serviceConfig(row.svcId);
    if (!s) return;
    op = {op: 'del-service', key: s.key};
    text = `Delete service ${describeKey(s.key)} and all its real servers?`;
  }
  session.openOverlay({kind: 'confirm', text, op});
}

/** x: the selected real server stops answering (or answers again). */
export function toggleServerFailed(session: UiSession): void {
  const d = selectedDest(session);
  if (!d) return;
  const rs = formatAddrPort(d.addr, d.port);
  const failed = session.backend.failedServers().includes(rs);
  session.apply({op: 'server-failed', rs, failed: !failed});
}

/** Sync view keys: start a stopped role (syncid 0, as ipvsadm defaults) or stop a running one. */
export function toggleSyncRole(session: UiSession, role: 'master' | 'backup'): void {
  const running = session.backend.syncStatus().roles.some((r) => r.role === role && r.config !== null);
  session.apply(running ? {op: 'sync-stop', role} : {op: 'sync-start', role, syncId: 0});
}

/** The attack menu's entries: one per kind, with the generator already running for it, if any. */
export function attackEntries(session: UiSession) {
  const gens = session.state.traffic.rows;
  return ATTACK_KINDS.map((kind) => {
    const g = [...gens].reverse().find((x) => x.kind === kind);
    return {kind, gen: g ?? null, target: g?.to ?? defaultTarget(session, kind), rate: g?.rate ?? ATTACK_DEFAULT_RATE[kind]!};
  });
}

/** Enter in the attack menu: start the kind (new generator) or toggle the existing one. */
export function toggleAttack(session: UiSession, sel: number): void {
  const e = attackEntries(session)[sel];
  if (!e) return;
  if (!e.gen) {
    if (!e.target) { session.say(`no service to aim ${e.kind} at`, 'warn'); return; }
    session.apply({op: 'traffic-add', spec: {kind: e.kind, to: e.target, rate: e.rate}});
  } else session.apply({op: e.gen.running ? 'traffic-stop' : 'traffic-start', id: e.gen.id});
}

export function rateAttack(session: UiSession, sel: number, factor: number): void {
  const e = attackEntries(session)[sel];
  if (!e?.gen) { session.say('start it first (Enter)', 'warn'); return; }
  session.apply({op: 'traffic-rate', id: e.gen.id, rate: Math.max(1, Math.round(e.gen.rate * factor))});
}

/** Traffic view: toggle / re-rate / remove the selected generator. */
export function selectedGenerator(session: UiSession) {
  const s = session.state.traffic;
  return s.rows[s.sel] ?? null;
}

export function toggleGenerator(session: UiSession): void {
  const g = selectedGenerator(session);
  if (g) session.apply({op: g.running ? 'traffic-stop' : 'traffic-start', id: g.id});
}

export function rateGenerator(session: UiSession, factor: number): void {
  const g = selectedGenerator(session);
  if (g) session.apply({op: 'traffic-rate', id: g.id, rate: Math.max(1, Math.round(g.rate * factor))});
}

export function askRemoveGenerator(session: UiSession): void {
  const g = selectedGenerator(session);
  if (g) session.openOverlay({kind: 'confirm', text: `Remove traffic generator ${g.id} (${g.kind} -> ${g.to})?`, op: {op: 'traffic-remove', id: g.id}});
}

/** debug_level +/- (0..12). */
export function debugLevelStep(session: UiSession, delta: number): void {
  const cur = Number(session.backend.tunables().find((t) => t.name === 'debug_level')?.value ?? 0);
  const next = Math.max(0, Math.min(12, cur + delta));
  if (next === cur) { session.say(`debug_level is already ${cur}`, 'info'); return; }
  session.apply({op: 'set-tunable', name: 'debug_level', value: String(next)});
}
