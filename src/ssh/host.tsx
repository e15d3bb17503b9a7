// The shared side of `lvsdeck serve`: ONE backend (the simulation on its wall-clock loop, the real
// data plane, or the kernel's IPVS), audit log and presence registry, and any number of UI
// sessions attached to it (ssh channels, the --console terminal).
// Each session has its own UiSession store (view, selection, size) and its own Ink instance. One
// publisher timer refreshes every session at the UI rate; a session whose client does not read
// (bytes piling up in the ssh channel) is skipped until it drains, so it costs nothing and cannot
// hold up the engine or the other sessions. Drawing costs about in proportion to the terminal's
// area, so a session larger than CELLS_PER_FRAME cells is refreshed less often (its frames per
// second times its cells stay within the budget of one full-rate 200x60 session).
import {inkMaxFps} from '../app/run-app.js';
import {render, type Instance} from 'ink';
import {App} from '../../components/App.js';
import type {Simulation} from '../sim/simulation.js';
import {AuditLog, type Role} from '../store/actions.js';
import {type Backend, LocalBackend} from '../store/backend.js';
import {UiSession} from '../store/session.js';
import {SimClock} from '../app/clock.js';
import {engineListings, type Listings} from './exec.js';
import {Presence} from './presence.js';
import {SharedBackend} from './shared-backend.js';

export interface Identity {
  user: string;
  role: Role;
  /** "console" or "ssh ADDR:PORT". */
  from: string;
  /** Key fingerprint (ssh). */
  key?: string;
}

export interface HostOptions {
  /**
   * The simulation behind the backend. Alone, it is served on virtual time (a SimClock at `speed`
   * and a LocalBackend); with `backend`, it is that backend's engine (the data plane's).
   */
  sim?: Simulation;
  speed?: number;
  /** The backend to serve (the data plane's, the kernel's); default: the simulation's own. */
  backend?: Backend;
  /** What moves `backend` on (the data plane's wall clock): started and stopped with the host. */
  driver?: {start(): void; stop(): void};
  /** Every session watches only: changes are refused whatever the role (the kernel without --allow-writes). */
  readOnly?: boolean;
  /** A line each session opens with, after its own (what is served; why it is read-only). */
  notice?: string;
  /** Where exec listings come from (default: the simulation's engine). */
  listings?: Listings;
  /** UI refresh rate (publishes per second and Ink's maxFps). */
  fps?: number;
  mono?: boolean;
  /** Session open/close events (the audit file). */
  onEvent?: (e: Record<string, unknown>) => void;
  /** Bytes queued for a client above which its frames are skipped (default 64 KiB). */
  softBacklog?: number;
  /** Wall clock (tests). */
  now?: () => number;
  /** Terminal cells a session may redraw per tick before its refresh rate is lowered (default 12000). */
  cellsPerFrame?: number;
}

export interface AttachOptions {
  identity: Identity;
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  /** Bytes written but not yet sent to the client (0 for a local terminal). */
  backlog?: () => number;
  message?: string;
}

const LEAVE = '\x1b[0m\x1b[?25h\x1b[?1049l';

export class UiHandle {
  closed = false;
  /** Publishes skipped because the client was backed up. */
  skipped = 0;
  backlogged = false;
  /** Publisher ticks to pass over before the next refresh (large terminals refresh less often). */
  wait = 0;
  readonly opened = Date.now();
  private readonly closers: ((reason: string) => void)[] = [];
  readonly done: Promise<string>;
  private resolveDone!: (reason: string) => void;

  constructor(readonly id: number, readonly identity: Identity, readonly session: UiSession,
    readonly instance: Instance, readonly backlog: () => number) {
    this.done = new Promise((r) => { this.resolveDone = r; });
  }

  /** Run `fn` once when the session ends (after Ink has unmounted). */
  onClose(fn: (reason: string) => void): void {
    if (this.closed) fn('closed');
    else this.closers.push(fn);
  }

  /** @internal */
  finish(reason: string): void {
    for (const fn of this.closers.splice(0)) {
      try { fn(reason); } catch { /* a closer must not stop the others */ }
    }
    this.resolveDone(reason);
  }
}

export class DeckHost {
  /** What moves the backend on: the simulation's virtual clock, the data plane's wall clock, or nothing (the kernel). */
  readonly driver: {start(): void; stop(): void} | null;
  readonly backend: SharedBackend;
  /** Read-only listings for exec requests (null: none, every exec listing is refused). */
  readonly listings: Listings | null;
  readonly audit = new AuditLog(1000, {refusalCapacity: 200});
  readonly presence = new Presence();
  readonly fps: number;
  private readonly handles = new Map<number, UiHandle>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly soft: number;
  private readonly cellsPerFrame: number;
  private readonly now: () => number;
  /** Publisher cost (wall ms) over the last ticks, for the status line. */
  readonly perf = {ticks: 0, refreshMs: 0, skipped: 0};

  constructor(readonly o: HostOptions) {
    const sim = o.sim;
    let inner: Backend;
    if (o.backend) {
      inner = o.backend;
      this.driver = o.driver ?? null;
    } else if (sim) {
      const clock = new SimClock(sim, {speed: o.speed ?? 1});
      inner = new LocalBackend(sim, clock);
      this.driver = clock;
    } else throw new Error('DeckHost needs a simulation or a backend');
    this.backend = new SharedBackend(inner, {virtualNow: sim ? () => sim.now : undefined});
    this.listings = o.listings ?? (sim ? engineListings(sim.engine) : null);
    this.fps = o.fps ?? 10;
    this.soft = o.softBacklog ?? 64 * 1024;
    this.cellsPerFrame = o.cellsPerFrame ?? 12_000;
    this.now = o.now ?? Date.now;
  }

  start(): void {
    this.driver?.start();
    if (!this.timer) this.timer = setInterval(() => this.publish(), Math.round(1000 / this.fps));
  }

  /** End every session and stop the clock. */
  stop(reason = 'server stopping'): void {
    for (const h of [...this.handles.values()]) this.close(h, reason);
    this.audit.flushRefusals(this.now(), true);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.driver?.stop();
  }

  get sessions(): UiHandle[] {
    return [...this.handles.values()];
  }

  /** One publisher tick: refresh each session whose client keeps up. */
  publish(): void {
    const t0 = performance.now();
    for (const h of this.handles.values()) {
      if (h.closed) continue;
      const queued = h.backlog();
      if (queued > this.soft) {
        h.skipped++;
        this.perf.skipped++;
        if (!h.backlogged) {
          h.backlogged = true;
          this.presence.update(h.id, {backlogged: true});
        }
        continue;
      }
      if (h.backlogged) {
        if (queued > this.soft / 2) { h.skipped++; continue; }
        h.backlogged = false;
        this.presence.update(h.id, {backlogged: false});
        h.session.refresh(true);
        continue;
      }
      if (h.wait > 0) { h.wait--; continue; }
      const {cols, rows} = h.session.state.size;
      h.wait = Math.ceil((cols * rows) / this.cellsPerFrame) - 1;
      h.session.refresh();
    }
    // once a second: the counts of refusals that were not listed (audit rate limit)
    if (this.perf.ticks % this.fps === 0) this.audit.flushRefusals(this.now());
    this.perf.ticks++;
    this.perf.refreshMs += performance.now() - t0;
  }

  /** Open a UI session on a terminal (an ssh channel's adapters or the local tty). */
  attach(o: AttachOptions): UiHandle {
    const id = this.presence.allocate();
    const {identity} = o;
    const size = {cols: o.stdout.columns || 80, rows: o.stdout.rows || 24};
    const session = new UiSession({
      backend: this.backend, audit: this.audit, user: identity.user, role: identity.role, sessionId: id,
      from: identity.from, key: identity.key, presence: this.presence, mono: this.o.mono, size, readOnly: this.o.readOnly,
    });
    const opening = [o.message, this.o.notice].filter(Boolean).join(' · ');
    if (opening) session.say(opening, this.o.readOnly ? 'warn' : 'info');
    this.presence.join({
      id, user: identity.user, role: identity.role, from: identity.from, since: Date.now(), cols: size.cols, rows: size.rows,
      backlogged: false, key: identity.key,
    });
    // the size a session shows in the Who view follows its window
    const unsub = session.store.subscribe((s, prev) => {
      if (s.size !== prev.size) this.presence.update(id, {cols: s.size.cols, rows: s.size.rows});
    });
    const instance = render(<App session={session} />, {
      stdout: o.stdout, stdin: o.stdin, stderr: o.stdout, exitOnCtrlC: true, patchConsole: false,
      maxFps: inkMaxFps(this.fps), incrementalRendering: false,
    });
    const h = new UiHandle(id, identity, session, instance, o.backlog ?? (() => 0));
    h.onClose(() => unsub());
    this.handles.set(id, h);
    this.o.onEvent?.({event: 'session-open', session: id, user: identity.user, role: identity.role, from: identity.from,
      ...(identity.key ? {key: identity.key} : {}), cols: size.cols, rows: size.rows});
    instance.waitUntilExit().then(() => this.close(h, 'quit'), () => this.close(h, 'quit'));
    return h;
  }

  /** End a session: unmount its UI, leave the registry, run its closers. Idempotent. */
  close(h: UiHandle, reason: string): void {
    if (h.closed) return;
    h.closed = true;
    this.handles.delete(h.id);
    this.presence.leave(h.id);
    h.session.stop();
    try {
      h.instance.unmount();
    } catch { /* already unmounted */ }
    try {
      h.instance.cleanup();
    } catch { /* ignore */ }
    this.o.onEvent?.({event: 'session-close', session: h.id, user: h.identity.user, role: h.identity.role,
      from: h.identity.from, reason, seconds: Math.round((Date.now() - h.opened) / 1000), skippedFrames: h.skipped});
    h.finish(reason);
  }
}

/** The escape sequence that leaves the alternate screen and shows the cursor again. */
export const LEAVE_SCREEN = LEAVE;
export const ENTER_SCREEN = '\x1b[?1049h\x1b[H\x1b[2J';
