// The UI's backend on the real data plane: the same engine commands, no virtual time, and the
// attack menu driving real generators in the lab's client namespace (src/lab/attack.ts) instead of
// made-up packets. Each attack is bounded (rate, count, 60 s) and ends by itself.
import type {ChildProcess} from 'node:child_process';
import {type AttackKind, LIMITS, startAttack} from '../lab/attack.js';
import {labDirectorPresent} from '../lab/lab.js';
import type {Simulation} from '../sim/simulation.js';
import {type BackendCapabilities, type BackendKind, type ClockControl, type Command, type CommandResult,
  type GeneratorRow, LocalBackend} from '../store/backend.js';
import type {GeneratorSpec} from '../traffic/generators.js';
import {PACKAGE_ROOT} from '../util/package-root.js';

const REAL_KIND: Partial<Record<GeneratorSpec['kind'], AttackKind>> = {
  synflood: 'synflood', connflood: 'connflood', udpflood: 'udpflood', portreuse: 'reuse',
};
const ATTACK_SECONDS = 60;
/** Why pause, speed and step are refused on the real data plane. */
export const NO_TIME_CONTROLS = 'time controls are off on the real data plane: packets arrive in real time';

interface RealAttack {
  id: string;
  spec: GeneratorSpec;
  child: ChildProcess | null;
  started: number;
  sent: number;
  count: number;
}

export class DataplaneBackend extends LocalBackend {
  override readonly kind: BackendKind = 'dataplane';
  override readonly capabilities: BackendCapabilities = {virtualTime: false, traffic: true, sync: true};
  private readonly attacks = new Map<string, RealAttack>();
  private nextId = 1;

  constructor(sim: Simulation, clock: ClockControl, private readonly labPresent = labDirectorPresent) {
    super(sim, clock);
  }

  override generators(): GeneratorRow[] {
    const now = Date.now();
    return [...this.attacks.values()].map((a) => {
      const running = a.child !== null;
      // while it runs, what the pacing has sent by now; the real count when it has ended
      const sent = running ? Math.min(a.count, Math.floor(((now - a.started) / 1000) * a.spec.rate)) : a.sent;
      return {
        // the generator kind as the simulation names it: the attack menu and `attack stop KIND` find it by that
        id: a.id, kind: a.spec.kind, to: a.spec.to, rate: a.spec.rate, running, inFlight: 0,
        stats: {sessions: sent, packetsIn: sent, packetsOut: 0, forwarded: 0, dropped: 0, accepted: 0, capped: 0},
      };
    });
  }

  override failedServers(): string[] {
    return [];
  }

  override apply(cmd: Command): CommandResult {
    switch (cmd.op) {
      case 'traffic-add': return {id: this.add(cmd.spec)};
      case 'traffic-start': this.launch(this.get(cmd.id)); return {};
      case 'traffic-stop': this.halt(this.get(cmd.id)); return {};
      case 'traffic-rate': {
        const a = this.get(cmd.id);
        this.halt(a);
        a.spec = {...a.spec, rate: cmd.rate};
        this.launch(a);
        return {};
      }
      case 'traffic-remove': this.halt(this.get(cmd.id)); this.attacks.delete(cmd.id); return {};
      case 'speed': case 'pause': case 'step': return {error: NO_TIME_CONTROLS};
      case 'server-failed':
        return {error: 'real servers fail for real here: stop one with `kill` in its namespace (lvsdeck lab status shows the pids)'};
      default: return super.apply(cmd);
    }
  }

  /** Stop every attack (the host is closing). */
  stopAll(): void {
    for (const a of this.attacks.values()) this.halt(a);
  }

  private get(id: string): RealAttack {
    const a = this.attacks.get(id);
    if (!a) throw new Error(`no attack '${id}'`);
    return a;
  }

  private add(spec: GeneratorSpec): string {
    if (!REAL_KIND[spec.kind]) {
      throw new Error(`${spec.kind} has no real generator; real attacks: synflood, connflood, udpflood, portreuse`);
    }
    if (!this.labPresent()) throw new Error('real attacks run in the lab\'s client namespace: start it with `lvsdeck lab up`');
    const a: RealAttack = {id: `real-${this.nextId++}`, spec, child: null, started: 0, sent: 0, count: 0};
    this.launch(a);
    this.attacks.set(a.id, a);
    return a.id;
  }

  private launch(a: RealAttack): void {
    if (a.child) return;
    const kind = REAL_KIND[a.spec.kind]!;
    const rate = Math.max(1, Math.min(Math.round(a.spec.rate), LIMITS.rate));
    const cap = kind === 'connflood' ? LIMITS.connflood : LIMITS.count;
    a.count = Math.min(cap, rate * ATTACK_SECONDS);
    const child = startAttack({kind, to: a.spec.to, rate, count: a.count, seconds: ATTACK_SECONDS}, PACKAGE_ROOT);
    a.child = child;
    a.started = Date.now();
    a.sent = 0;
    let out = '';
    child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('exit', () => {
      a.sent = Number(/(\d+) sent/.exec(out)?.[1] ?? 0);
      if (a.child === child) a.child = null;
    });
  }

  private halt(a: RealAttack): void {
    a.child?.kill('SIGTERM');
    a.child = null;
  }
}
