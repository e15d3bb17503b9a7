// One UI session: a zustand vanilla store (view, selection, filter, sort, edit buffers, the
// throttled engine snapshot and history rings) plus the methods that change it. Created per
// session (the local terminal, the --console of serve, one per ssh channel) over one shared
// backend; nothing here is a module-level singleton. Each session has an actor (user, role) that
// the actions module checks, and sees the others through a presence source (who is connected).
import {createStore, type StoreApi} from 'zustand/vanilla';
import type {ConnSortKey} from '../engine/conn-query.js';
import type {
  Backend, ClockInfo, ConnDetail, ConnId, ConnInfo, EngineSnapshot, GeneratorRow, LogLine, TunableRow,
} from './backend.js';
import {Actions, type ActionResult, type AuditEntry, type AuditLog, type Op, type Role} from './actions.js';
import {connPageSize, listPageSize, type TermSize} from './layout.js';
import type {SyncStatus} from './sync-status.js';

/** Longest text a line input (command bar, filter, tunable value) or a form field holds. */
export const MAX_INPUT_CHARS = 1024;

export type ViewId = 'dashboard' | 'services' | 'conns' | 'tunables' | 'traffic' | 'log' | 'audit' | 'sync';

export const VIEWS: readonly {id: ViewId; key: string; title: string; short: string}[] = [
  {id: 'dashboard', key: '1', title: 'Dashboard', short: 'Dash'},
  {id: 'services', key: '2', title: 'Services', short: 'Svc'},
  {id: 'conns', key: '3', title: 'Connections', short: 'Conns'},
  {id: 'tunables', key: '4', title: 'Tunables', short: 'Tun'},
  {id: 'traffic', key: '5', title: 'Attacks/Traffic', short: 'Traffic'},
  {id: 'log', key: '6', title: 'Log', short: 'Log'},
  // 7: who is connected and the audit trail (Tab cycles 1..6; 7 or `:view audit` opens it)
  {id: 'audit', key: '7', title: 'Who/Audit', short: 'Audit'},
  // 8: the connection-sync daemons (also outside the Tab cycle)
  {id: 'sync', key: '8', title: 'Sync', short: 'Sync'},
];

/** One connected UI session as the others see it (the Who/Audit view and the header). */
export interface Peer {
  id: number;
  user: string;
  role: Role;
  /** "console" or "ssh ADDR:PORT". */
  from: string;
  /** Wall ms since epoch when the session opened. */
  since: number;
  cols: number;
  rows: number;
  /** Frames held back because the client does not read fast enough. */
  backlogged: boolean;
}

/** Who is connected: the host's registry (src/ssh/presence.ts) implements it. */
export interface PresenceSource {
  /** Bumped on every join, leave or resize. */
  readonly version: number;
  list(): Peer[];
}

export interface Message {
  text: string;
  kind: 'info' | 'ok' | 'error' | 'warn';
  /** Wall ms when shown. */
  at: number;
}

export interface FormField {
  name: string;
  label: string;
  value: string;
  hint?: string;
}

export interface FormState {
  title: string;
  fields: FormField[];
  focus: number;
  /** What submit does: the fields are turned into an Op by the form's builder. */
  kind: 'add-dest' | 'edit-dest' | 'add-service' | 'edit-service' | 'add-traffic' | 'traffic-rate';
  /** Context for the builder (service id, dest id, generator id). */
  ctx: Record<string, string | number>;
  error: string | null;
}

export type Overlay =
  | {kind: 'help'; scroll: number}
  | {kind: 'confirm'; text: string; op: Op}
  | {kind: 'form'; form: FormState}
  /** An entry's details; `gone` once the entry expired (detail then holds its last values). */
  | {kind: 'conn'; id: ConnId; detail: ConnDetail | null; gone: boolean}
  | {kind: 'attack'; sel: number; target: string};

/** A line being edited: the filter, the command bar, a tunable value or the log filter. */
export interface LineInput {
  kind: 'filter' | 'command' | 'tunable' | 'log-filter';
  buffer: string;
  /** For 'tunable': its name. */
  target?: string;
}

export interface History {
  /** Virtual time (ms) of each sample. */
  t: number[];
  cps: number[];
  inpps: number[];
  outpps: number[];
  /** Packets dropped by drop_packet (ip_vs_todrop) per second. */
  dropDefense: number[];
  /** Packets dropped for any other reason per second. */
  dropOther: number[];
  /** drop_entry removals per second, by cause. */
  dropEntry: Record<string, number[]>;
  availPages: number[];
  /** amemthresh at each sample (it is a tunable: the line moves when it is written). */
  amemthresh: number[];
  /** New connections per second per real server (dest id). */
  dest: Record<number, number[]>;
  /** New connections per second per virtual service (service id). */
  svc: Record<number, number[]>;
}

export interface UiState {
  view: ViewId;
  size: TermSize;
  mono: boolean;
  readOnly: boolean;
  user: string;
  role: Role;
  /** This session's id in the presence registry (0: a lone local session). */
  sessionId: number;
  /** Everyone connected, this session included (empty without a presence source). */
  peers: Peer[];
  /** Who/Audit view: audit lines scrolled back from the newest. */
  auditScroll: number;
  /** Sync view: the daemons' status (refreshed while the view is shown). */
  sync: SyncStatus | null;
  overlay: Overlay | null;
  input: LineInput | null;
  message: Message | null;
  snap: EngineSnapshot | null;
  clock: ClockInfo;
  hist: History;
  /** Rates over the last history sample (per virtual second). */
  rates: {cps: number; inpps: number; outpps: number};
  svc: {sel: number};
  conns: {
    sel: number;
    filter: string;
    sort: ConnSortKey | null;
    desc: boolean;
    templates: 'include' | 'exclude' | 'only';
    total: number;
    offset: number;
    rows: ConnInfo[];
    /** Wall ms of the last engine query. */
    queryMs: number;
    /** Age of the rows when the backend served them from an earlier scan (ms). */
    ageMs?: number;
    error: string | null;
  };
  tun: {sel: number; rows: TunableRow[]; error: string | null; note: string | null};
  traffic: {sel: number; rows: GeneratorRow[]; failed: string[]};
  log: {lines: LogLine[]; follow: boolean; frozenSeq: number; maxLevel: number; filter: string; scroll: number};
  audit: AuditEntry[];
  cmdHistory: string[];
  /** Position while browsing the command history (-1: not browsing). */
  cmdHistIdx: number;
  quitRequested: boolean;
}

export type UiStore = StoreApi<UiState>;

/** A flattened row of the Services view: a service or one of its real servers. */
export interface ServiceRow {
  kind: 'service' | 'dest';
  svcId: number;
  destId: number;
  svcIndex: number;
}

const HIST_CAP = 300;
const LOG_CAP = 1000;
const MESSAGE_MS = 8000;
export const SPEEDS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
export const SORT_KEYS: Record<string, ConnSortKey> = {
  P: 'proto', C: 'client', V: 'virtual', R: 'real', S: 'state', E: 'expires', I: 'inpkts', O: 'outpkts',
};

function emptyHistory(): History {
  return {t: [], cps: [], inpps: [], outpps: [], dropDefense: [], dropOther: [], dropEntry: {}, availPages: [], amemthresh: [], dest: {}, svc: {}};
}

const push = (a: number[] | undefined, v: number): number[] => {
  const out = a ? (a.length >= HIST_CAP ? a.slice(a.length - HIST_CAP + 1) : a.slice()) : [];
  out.push(v);
  return out;
};

export interface SessionOptions {
  backend: Backend;
  audit: AuditLog;
  user?: string;
  readOnly?: boolean;
  mono?: boolean;
  size?: TermSize;
  /** The role the actions module enforces (default admin: the local terminal owns the instance). */
  role?: Role;
  /** Id in the presence registry, recorded in the audit with `from` and `key`. */
  sessionId?: number;
  from?: string;
  key?: string;
  /** Who else is connected (serve). */
  presence?: PresenceSource;
  /** Wall clock (tests pass a fake). */
  wallNow?: () => number;
}

export class UiSession {
  readonly store: UiStore;
  readonly backend: Backend;
  readonly actions: Actions;
  readonly audit: AuditLog;
  private readonly wallNow: () => number;
  private lastSample: {now: number; conns: number; inpkts: number; outpkts: number; dropped: Record<string, number>;
    dropEntry: Record<string, number>; dest: Map<number, number>; svc: Map<number, number>} | null = null;
  private lastConnQueryAt = -Infinity;
  private connsDirty = true;
  private lastLogSeq = 0;
  private lastAuditSeq = -1;
  private lastPresence = -1;
  private readonly presence: PresenceSource | null;
  readonly sessionId: number;
  private lastDefenseSig = '';
  private timer: ReturnType<typeof setInterval> | null = null;
  private fps = 10;
  /** Wall ms spent in the last refresh (engine queries and store update, which may render). */
  lastRefreshMs = 0;
  /** Wall ms of the last refresh's backend queries alone (the engine-query part of a frame). */
  lastQueryMs = 0;

  constructor(o: SessionOptions) {
    this.backend = o.backend;
    this.audit = o.audit;
    this.wallNow = o.wallNow ?? (() => performance.now());
    const user = o.user ?? 'local';
    const role = o.role ?? 'admin';
    this.presence = o.presence ?? null;
    this.sessionId = o.sessionId ?? 0;
    this.actions = new Actions({backend: o.backend, audit: o.audit, user, readOnly: !!o.readOnly, role,
      session: o.sessionId, from: o.from, key: o.key});
    this.store = createStore<UiState>(() => ({
      view: 'dashboard',
      size: o.size ?? {cols: 100, rows: 30},
      mono: !!o.mono,
      readOnly: !!o.readOnly,
      user,
      role,
      sessionId: this.sessionId,
      peers: [],
      auditScroll: 0,
      sync: null,
      overlay: null,
      input: null,
      message: o.readOnly ? {text: 'read-only session: changes are disabled', kind: 'warn', at: this.wallNow()}
        : o.role === 'reader' ? {text: `${user}: reader role, you can watch everything and change nothing`, kind: 'warn', at: this.wallNow()}
        : null,
      snap: null,
      clock: o.backend.clock(),
      hist: emptyHistory(),
      rates: {cps: 0, inpps: 0, outpps: 0},
      svc: {sel: 0},
      conns: {sel: 0, filter: '', sort: null, desc: false, templates: 'include', total: 0, offset: 0, rows: [], queryMs: 0, error: null},
      tun: {sel: 0, rows: [], error: null, note: null},
      traffic: {sel: 0, rows: [], failed: []},
      log: {lines: [], follow: true, frozenSeq: 0, maxLevel: 12, filter: '', scroll: 0},
      audit: [],
      cmdHistory: [],
      cmdHistIdx: -1,
      quitRequested: false,
    }));
    this.refresh(true);
  }

  get state(): UiState {
    return this.store.getState();
  }

  private set(p: Partial<UiState>): void {
    this.store.setState(p);
  }

  // ---------------------------------------------------------------- publishing

  /** Publish at `fps` (the UI rate); the engine itself runs at any rate. */
  start(fps = 10): void {
    this.stop();
    this.fps = fps;
    this.timer = setInterval(() => this.refresh(), Math.round(1000 / fps));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Pull what the visible view needs from the backend and publish it in one store update.
   * `force` also re-reads data that only changes on commands (tunables, generators).
   */
  refresh(force = false): void {
    const t0 = this.wallNow();
    const s = this.state;
    const p: Partial<UiState> = {};
    // a change by anyone (another ssh session included): publish the new configuration now,
    // not at the next virtual second (which never comes while paused)
    if (this.lastAuditSeq !== this.audit.lastSeq) {
      const first = this.lastAuditSeq === -1;
      const added = first ? [] : this.audit.list().filter((e) => e.seq > this.lastAuditSeq);
      this.lastAuditSeq = this.audit.lastSeq;
      p.audit = this.audit.list().slice();
      force = true;
      this.connsDirty = true;
      const theirs = added.filter((e) => e.ok && e.session !== undefined && e.session !== this.sessionId);
      const last = theirs[theirs.length - 1];
      if (last) {
        p.message = {text: `${last.user} (${last.role}): ${last.what}${last.change ? `  [${last.change}]` : ''}`, kind: 'info', at: this.wallNow()};
      }
    }
    if (this.presence && this.presence.version !== this.lastPresence) {
      this.lastPresence = this.presence.version;
      p.peers = this.presence.list();
    }
    const snap = this.backend.snapshot();
    const clock = this.backend.clock();
    const prev = s.snap;
    // Publish only what would change on screen: the views show virtual time to the second and
    // rates per virtual second, so between two virtual-second boundaries nothing visible moves,
    // except a defense flipping (shown the moment the engine does it) or a clock change. At 1x
    // that is ~1 frame/s instead of 10; at >= 10x every 10 Hz tick is a new second.
    const sig = defenseSig(snap);
    const moved = !prev || Math.floor(prev.now / 1000) !== Math.floor(snap.now / 1000) || prev.now > snap.now;
    const flipped = sig !== this.lastDefenseSig;
    const clockChanged = !sameClock(clock, s.clock);
    if (moved || force || flipped || clockChanged) {
      p.snap = snap;
      p.clock = clock;
      this.lastDefenseSig = sig;
    }
    if (moved) this.sample(snap, p);
    const fresh = moved || force;
    const view = s.view;
    // connections: the window is re-queried at most every 4x the last query's cost
    if (view === 'conns') {
      const minGap = Math.max(1000 / this.fps - 5, 4 * s.conns.queryMs);
      if (this.connsDirty || (fresh && t0 - this.lastConnQueryAt >= minGap)) Object.assign(p, {conns: this.queryConns()});
    }
    if (s.overlay?.kind === 'conn' && fresh) {
      const detail = s.overlay.gone ? null : this.backend.connDetail(s.overlay.id);
      p.overlay = detail ? {...s.overlay, detail} : {...s.overlay, gone: true};
    }
    if ((view === 'tunables' && fresh) || force || s.tun.rows.length === 0) {
      const rows = this.backend.tunables();
      if (!sameTunables(rows, s.tun.rows)) p.tun = {...s.tun, rows};
    }
    if (((view === 'traffic' || s.overlay?.kind === 'attack') && fresh) || force) {
      p.traffic = {...s.traffic, rows: this.backend.generators(), failed: this.backend.failedServers()};
    }
    if (view === 'sync') p.sync = this.backend.syncStatus();
    if (fresh || view === 'log') {
      const lines = this.backend.logSince(this.lastLogSeq);
      if (lines.length) {
        this.lastLogSeq = lines[lines.length - 1]!.seq;
        const all = s.log.lines.concat(lines);
        p.log = {...s.log, lines: all.length > LOG_CAP ? all.slice(all.length - LOG_CAP) : all};
      }
    }
    if (s.message && !p.message && this.wallNow() - s.message.at > MESSAGE_MS && !s.input) p.message = null;
    this.lastQueryMs = this.wallNow() - t0;
    if (Object.keys(p).length) this.set(p);
    this.lastRefreshMs = this.wallNow() - t0;
  }

  /** Fold the counters into the history rings once per virtual second (or per frame when faster). */
  private sample(snap: EngineSnapshot, p: Partial<UiState>): void {
    const dest = new Map<number, number>();
    const svcConns = new Map<number, number>();
    for (const svc of snap.services) {
      svcConns.set(svc.id, svc.stats.conns);
      for (const d of svc.dests) dest.set(d.id, d.stats.conns);
    }
    const cur = {
      now: snap.now, conns: snap.totals.conns, inpkts: snap.counters.packetsIn, outpkts: snap.counters.packetsOut,
      dropped: snap.counters.dropped as Record<string, number>, dropEntry: snap.counters.dropEntry as Record<string, number>, dest, svc: svcConns,
    };
    const last = this.lastSample;
    if (!last || snap.now < last.now) { this.lastSample = cur; return; }
    const dt = (snap.now - last.now) / 1000;
    if (dt < 1) return;
    const rate = (a: number, b: number) => Math.max(0, Math.round((a - b) / dt));
    const h = this.state.hist;
    const drops = (m: Record<string, number>, pred: (k: string) => boolean) =>
      Object.entries(m).reduce((acc, [k, v]) => (pred(k) ? acc + v : acc), 0);
    const dd = drops(cur.dropped, (k) => k === 'drop-packet-defense') - drops(last.dropped, (k) => k === 'drop-packet-defense');
    const dother = drops(cur.dropped, (k) => k !== 'drop-packet-defense') - drops(last.dropped, (k) => k !== 'drop-packet-defense');
    const dropEntry: Record<string, number[]> = {};
    const causes = new Set([...Object.keys(h.dropEntry), ...Object.keys(cur.dropEntry)]);
    for (const c of causes) {
      const prevSeries = h.dropEntry[c] ?? new Array(h.t.length).fill(0);
      dropEntry[c] = push(prevSeries, rate(cur.dropEntry[c] ?? 0, last.dropEntry[c] ?? 0));
    }
    const destH: Record<number, number[]> = {};
    for (const [id, n] of dest) destH[id] = push(h.dest[id], rate(n, last.dest.get(id) ?? n));
    const svcH: Record<number, number[]> = {};
    for (const [id, n] of svcConns) svcH[id] = push(h.svc[id], rate(n, last.svc.get(id) ?? n));
    const rates = {cps: rate(cur.conns, last.conns), inpps: rate(cur.inpkts, last.inpkts), outpps: rate(cur.outpkts, last.outpkts)};
    p.hist = {
      t: push(h.t, snap.now), cps: push(h.cps, rates.cps), inpps: push(h.inpps, rates.inpps), outpps: push(h.outpps, rates.outpps),
      dropDefense: push(h.dropDefense, Math.max(0, Math.round(dd / dt))), dropOther: push(h.dropOther, Math.max(0, Math.round(dother / dt))),
      dropEntry, availPages: push(h.availPages, snap.memory.availablePages),
      amemthresh: push(h.amemthresh, snap.memory.amemthresh), dest: destH, svc: svcH,
    };
    p.rates = rates;
    this.lastSample = cur;
  }

  private queryConns(): UiState['conns'] {
    const c = this.state.conns;
    const page = connPageSize(this.state.size);
    const t0 = this.wallNow();
    const q = this.connQuery(c.filter);
    let total = 0, rows: ConnInfo[] = [], error: string | null = null, ageMs: number | undefined;
    let sel = c.sel;
    let offset = c.offset;
    try {
      // first learn the total (the selection may be past the end after entries expired)
      const first = this.backend.queryConns({...q, offset: pageStart(sel, offset, page), limit: page});
      total = first.total;
      rows = first.rows;
      ageMs = first.ageMs;
      if (total === 0) sel = 0;
      else if (sel >= total) sel = total - 1;
      const start = pageStart(sel, offset, page);
      if (start !== pageStart(c.sel, offset, page) || (rows.length === 0 && total > 0)) {
        rows = this.backend.queryConns({...q, offset: start, limit: page}).rows;
      }
      offset = start;
    } catch (err) {
      error = (err as Error).message;
    }
    this.lastConnQueryAt = this.wallNow();
    this.connsDirty = false;
    return {...c, sel, offset, total, rows, queryMs: this.wallNow() - t0, error, ageMs};
  }

  /** The Connections filter text -> an engine query (state names and tpl/!tpl are split out). */
  connQuery(filter: string) {
    const c = this.state.conns;
    const words: string[] = [];
    let state: string | undefined;
    let templates = c.templates;
    let destId: number | undefined;
    for (const w of filter.trim().split(/\s+/).filter(Boolean)) {
      const lw = w.toLowerCase();
      if (lw === 'tpl' || lw === 'templates') templates = 'only';
      else if (lw === '!tpl' || lw === '-tpl') templates = 'exclude';
      else if (/^(rs|server)[=:]/.test(lw)) {
        const want = w.slice(w.search(/[=:]/) + 1);
        const d = this.state.snap?.services.flatMap((s) => s.dests).find((x) => x.label === want || x.label.startsWith(`${want}:`));
        destId = d ? d.id : -1;
      } else if (/^[A-Za-z_-]+$/.test(w) && STATE_NAMES.has(w.toUpperCase())) state = w.toUpperCase();
      else words.push(w);
    }
    return {text: words.join(' ') || undefined, state, destId, templates, sort: c.sort ?? undefined, desc: c.desc};
  }

  // ---------------------------------------------------------------- messages and overlays

  say(text: string, kind: Message['kind'] = 'info'): void {
    this.set({message: {text, kind, at: this.wallNow()}});
  }

  /** Apply an operator change through the actions module, show the result and refresh. */
  apply(op: Op): ActionResult {
    const r = this.actions.apply(op);
    this.say(r.message, r.ok ? 'ok' : this.actions.readOnly || r.refused ? 'warn' : 'error');
    this.connsDirty = true;
    this.refresh(true);
    return r;
  }

  setSize(size: TermSize): void {
    const s = this.state.size;
    if (s.cols === size.cols && s.rows === size.rows) return;
    this.set({size});
    this.connsDirty = true;
    if (this.state.view === 'conns') this.refresh();
  }

  setView(view: ViewId): void {
    if (this.state.view === view && !this.state.overlay) return;
    this.set({view, overlay: null, input: null});
    this.connsDirty = true;
    this.refresh(true);
  }

  /** Tab / Shift-Tab: the six main views (Who/Audit is opened with 7; from there Tab goes on to 1). */
  cycleView(dir: 1 | -1): void {
    const main = VIEWS.filter((v) => v.id !== 'audit' && v.id !== 'sync');
    const i = main.findIndex((v) => v.id === this.state.view);
    const next = i < 0 ? (dir > 0 ? 0 : main.length - 1) : (i + dir + main.length) % main.length;
    this.setView(main[next]!.id);
  }

  openOverlay(o: Overlay): void {
    this.set({overlay: o, input: null});
    this.refresh(true);
  }

  closeOverlay(): void {
    this.set({overlay: null});
  }

  requestQuit(): void {
    this.set({quitRequested: true});
  }

  // ---------------------------------------------------------------- selection

  serviceRows(): ServiceRow[] {
    const rows: ServiceRow[] = [];
    this.state.snap?.services.forEach((svc, svcIndex) => {
      rows.push({kind: 'service', svcId: svc.id, destId: -1, svcIndex});
      for (const d of svc.dests) rows.push({kind: 'dest', svcId: svc.id, destId: d.id, svcIndex});
    });
    return rows;
  }

  /** Move the selection of the current view by `delta` rows ('top'/'bottom' jump). */
  move(delta: number | 'top' | 'bottom' | 'pageUp' | 'pageDown'): void {
    const s = this.state;
    const clamp = (v: number, n: number) => Math.max(0, Math.min(v, Math.max(0, n - 1)));
    const step = (cur: number, n: number, page: number) => {
      if (delta === 'top') return 0;
      if (delta === 'bottom') return clamp(n - 1, n);
      if (delta === 'pageUp') return clamp(cur - page, n);
      if (delta === 'pageDown') return clamp(cur + page, n);
      return clamp(cur + delta, n);
    };
    if (s.overlay?.kind === 'help') {
      const scroll = Math.max(0, step(s.overlay.scroll, 500, 10));
      this.set({overlay: {...s.overlay, scroll}});
      return;
    }
    if (s.overlay?.kind === 'attack') {
      this.set({overlay: {...s.overlay, sel: step(s.overlay.sel, ATTACK_KINDS.length, 3)}});
      return;
    }
    switch (s.view) {
      case 'services': {
        const n = this.serviceRows().length;
        this.set({svc: {sel: step(s.svc.sel, n, listPageSize(s.size))}});
        break;
      }
      case 'conns': {
        const sel = step(s.conns.sel, s.conns.total, connPageSize(s.size));
        this.set({conns: {...s.conns, sel}});
        this.connsDirty = true;
        this.refresh();
        break;
      }
      case 'tunables':
        this.set({tun: {...s.tun, sel: step(s.tun.sel, s.tun.rows.length, listPageSize(s.size, 6))}});
        break;
      case 'traffic':
        this.set({traffic: {...s.traffic, sel: step(s.traffic.sel, s.traffic.rows.length, listPageSize(s.size))}});
        break;
      case 'log': {
        // scroll counts lines back from the newest
        const n = this.visibleLog().length;
        const page = listPageSize(s.size, 6);
        let scroll = s.log.scroll;
        if (delta === 'top') scroll = Math.max(0, n - page);
        else if (delta === 'bottom') scroll = 0;
        else if (delta === 'pageUp') scroll = Math.min(Math.max(0, n - page), scroll + page);
        else if (delta === 'pageDown') scroll = Math.max(0, scroll - page);
        else scroll = Math.max(0, Math.min(Math.max(0, n - page), scroll - delta));
        this.set({log: {...s.log, scroll}});
        break;
      }
      case 'audit': {
        // like the log: scroll counts entries back from the newest
        const n = s.audit.length;
        const page = listPageSize(s.size, 4 + s.peers.length);
        let scroll = s.auditScroll;
        if (delta === 'top') scroll = Math.max(0, n - page);
        else if (delta === 'bottom') scroll = 0;
        else if (delta === 'pageUp') scroll = Math.min(Math.max(0, n - page), scroll + page);
        else if (delta === 'pageDown') scroll = Math.max(0, scroll - page);
        else scroll = Math.max(0, Math.min(Math.max(0, n - page), scroll - delta));
        this.set({auditScroll: scroll});
        break;
      }
      default:
        break;
    }
  }

  /** Log lines as the Log view filters them (level, text, follow/paused). */
  visibleLog(): LogLine[] {
    const l = this.state.log;
    const f = l.filter.toLowerCase();
    return l.lines.filter((x) => x.level <= l.maxLevel && (l.follow || x.seq <= l.frozenSeq) &&
      (!f || x.msg.toLowerCase().includes(f)));
  }

  selectedServiceRow(): ServiceRow | null {
    return this.serviceRows()[this.state.svc.sel] ?? null;
  }

  // ---------------------------------------------------------------- connections

  setConnSort(letter: string): void {
    const key = SORT_KEYS[letter];
    if (!key) return;
    const c = this.state.conns;
    const desc = c.sort === key ? !c.desc : key === 'expires' || key === 'inpkts' || key === 'outpkts' ? false : false;
    this.set({conns: {...c, sort: key, desc, sel: 0}});
    this.connsDirty = true;
    this.refresh();
  }

  cycleTemplates(): void {
    const c = this.state.conns;
    const next = c.templates === 'include' ? 'exclude' : c.templates === 'exclude' ? 'only' : 'include';
    this.set({conns: {...c, templates: next, sel: 0}});
    this.say(`templates: ${next === 'include' ? 'shown' : next === 'exclude' ? 'hidden' : 'only templates'}`);
    this.connsDirty = true;
    this.refresh();
  }

  setConnFilter(filter: string): void {
    this.set({conns: {...this.state.conns, filter, sel: 0}});
    this.connsDirty = true;
    this.refresh();
  }

  openConnDetail(): void {
    const c = this.state.conns;
    const row = c.rows[c.sel - c.offset];
    if (!row) return;
    const detail = this.backend.connDetail(row.id);
    this.openOverlay({kind: 'conn', id: row.id, detail, gone: detail === null});
  }

  // ---------------------------------------------------------------- line input

  beginInput(kind: LineInput['kind'], buffer = '', target?: string): void {
    this.set({input: {kind, buffer, target}, cmdHistIdx: -1});
  }

  editInput(fn: (b: string) => string): void {
    const i = this.state.input;
    if (!i) return;
    // bounded: a paste of megabytes into the command bar must not grow a session without limit
    this.set({input: {...i, buffer: fn(i.buffer).slice(0, MAX_INPUT_CHARS)}});
  }

  cancelInput(): void {
    this.set({input: null});
  }

  /** Browse the command history (up = older). */
  historyStep(dir: 1 | -1): void {
    const s = this.state;
    if (!s.input || s.input.kind !== 'command' || s.cmdHistory.length === 0) return;
    let idx = s.cmdHistIdx === -1 ? (dir === 1 ? s.cmdHistory.length - 1 : -1) : s.cmdHistIdx - dir;
    if (idx < 0 && dir === 1) idx = 0;
    if (idx >= s.cmdHistory.length || idx < 0) {
      this.set({cmdHistIdx: -1, input: {...s.input, buffer: ''}});
      return;
    }
    this.set({cmdHistIdx: idx, input: {...s.input, buffer: s.cmdHistory[idx]!}});
  }

  pushHistory(line: string): void {
    const h = this.state.cmdHistory.filter((x) => x !== line);
    h.push(line);
    this.set({cmdHistory: h.slice(-100), cmdHistIdx: -1});
  }

  // ---------------------------------------------------------------- tunables

  /** Write a tunable; a rejection shows the handler's error and the value stays as it was. */
  writeTunable(name: string, value: string): boolean {
    const r = this.apply({op: 'set-tunable', name, value});
    const t = this.state.tun;
    this.set({tun: {...t, error: r.ok ? null : r.message, note: r.ok ? r.message : null}});
    return r.ok;
  }

  // ---------------------------------------------------------------- log

  toggleFollow(): void {
    const l = this.state.log;
    const follow = !l.follow;
    const last = l.lines[l.lines.length - 1];
    this.set({log: {...l, follow, frozenSeq: follow ? 0 : last?.seq ?? 0, scroll: 0}});
    this.say(follow ? 'log: following' : 'log: paused (f to follow)');
  }

  cycleLogLevel(): void {
    const l = this.state.log;
    const maxLevel = l.maxLevel >= 12 ? 1 : l.maxLevel + 1;
    this.set({log: {...l, maxLevel, scroll: 0}});
  }

  setLogFilter(filter: string): void {
    this.set({log: {...this.state.log, filter, scroll: 0}});
  }
}

export const ATTACK_KINDS = ['synflood', 'connflood', 'ackflood', 'rstflood', 'udpflood', 'portreuse'] as const;
export const ATTACK_DEFAULT_RATE: Record<string, number> = {
  synflood: 5000, connflood: 2000, ackflood: 10000, rstflood: 10000, udpflood: 10000, portreuse: 200,
};

const STATE_NAMES = new Set([
  'NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN',
  'SYNACK', 'UDP', 'ASSURED', 'INIT1', 'INIT', 'C-SENT', 'C-REPLIED', 'C-WAIT', 'COOKIE', 'C-ECHOED', 'S-SENT',
  'S-RECEIVED', 'S-ACK-SENT', 'REJECTED', 'CLOSED',
]);

/** First row of the page that shows `sel` (pages are aligned to the page size). */
function pageStart(sel: number, _offset: number, page: number): number {
  return Math.floor(Math.max(0, sel) / page) * page;
}

function defenseSig(snap: EngineSnapshot): string {
  const d = snap.defense;
  return `${d.drop_entry.mode}${d.drop_entry.active ? 1 : 0}${d.drop_packet.mode}${d.drop_packet.active ? 1 : 0}${d.secure_tcp.mode}${d.secure_tcp.active ? 1 : 0}`;
}

function sameClock(a: ClockInfo, b: ClockInfo): boolean {
  return a.speed === b.speed && a.paused === b.paused && a.lagging === b.lagging && Math.abs(a.effective - b.effective) < 0.05 * Math.max(1, a.speed);
}

function sameTunables(a: TunableRow[], b: TunableRow[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.value !== b[i]!.value) return false;
  return true;
}
