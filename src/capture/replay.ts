// A capture as an event source on virtual time: frames are decoded one ahead. Virtual time 0 is
// the start of the second in which the first packet was captured, so a packet keeps its distance
// from the first one and its place within the second: a capture written by lvsdeck (stamped with
// virtual time since the epoch) replays at exactly the times it was recorded, timers and all.
// Times that go backwards, as captures merged from several interfaces can, are held at the latest
// time seen. The direction of each packet is decided as for a scenario's `packets:`.
import type {Engine} from '../engine/engine.js';
import type {Simulation} from '../sim/simulation.js';
import {emptyPacket} from '../engine/packet.js';
import type {Packet} from '../engine/types.js';
import {packetDir} from '../scenario/runner.js';
import type {TrafficContext, TrafficDriver} from '../scenario/traffic-hook.js';
import {decodeFrame, type DecodeOptions, type SkipReason} from './decode.js';
import {CaptureError, type CaptureReader} from './pcap-read.js';

export interface ReplayStats {
  /** Records read from the file. */
  frames: number;
  /** Packets handed to the engine. */
  packets: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** Capture time (seconds since the epoch) of the first and last packet handed over. */
  first: {sec: number; nsec: number} | null;
  last: {sec: number; nsec: number} | null;
}

export interface ReplayOptions extends DecodeOptions {
  /** Stop with an error after this many records (bounds a run on an unexpectedly large file). */
  maxFrames?: number;
  /** Called every `progressEvery` frames. */
  onProgress?: (stats: ReplayStats) => void;
  progressEvery?: number;
}

export const DEFAULT_MAX_FRAMES = 100_000_000;
/**
 * Longest silence between two packets accepted: the engine runs its once-a-second timers through
 * every virtual second of a gap, so a stamp years ahead (a damaged record) would never finish.
 */
export const MAX_GAP_MS = 86_400_000;

export class ReplaySource {
  readonly stats: ReplayStats = {frames: 0, packets: 0, skipped: {}, first: null, last: null};
  private readonly packet: Packet = emptyPacket();
  private pendingAt = Infinity;
  private latest = 0;
  private readonly maxFrames: number;

  constructor(private readonly reader: CaptureReader, private readonly opts: ReplayOptions = {}) {
    this.maxFrames = opts.maxFrames ?? DEFAULT_MAX_FRAMES;
    this.advance();
  }

  /** Virtual time (ms) of the next packet, Infinity at the end. */
  nextTime(): number {
    return this.pendingAt;
  }

  /** The next packet (valid until the following take()), and move on. */
  take(): Packet {
    const p = this.packet;
    this.stats.packets++;
    return p;
  }

  /** Read ahead to the next packet the engine can take. Throws CaptureError. */
  advance(): void {
    const {stats, opts} = this;
    for (;;) {
      const rec = this.reader.next();
      if (!rec) {
        this.pendingAt = Infinity;
        return;
      }
      if (++stats.frames > this.maxFrames) throw new CaptureError(`the capture has more than ${this.maxFrames} packets (raise --max-packets)`);
      if (opts.onProgress && stats.frames % (opts.progressEvery ?? 65536) === 0) opts.onProgress(stats);
      const why = decodeFrame(rec.linkType, rec.data, rec.origLen, this.packet, rec.direction, opts);
      if (why !== null) {
        stats.skipped[why] = (stats.skipped[why] ?? 0) + 1;
        continue;
      }
      const first = (stats.first ??= {sec: rec.sec, nsec: rec.nsec});
      stats.last = {sec: rec.sec, nsec: rec.nsec};
      const t = (rec.sec - first.sec) * 1000 + rec.nsec / 1e6;
      if (t - this.latest > MAX_GAP_MS) {
        throw new CaptureError(`corrupt capture? the packet at byte ${rec.offset} comes ${((t - this.latest) / 86_400_000).toFixed(1)} days after the one before it (at most one day)`);
      }
      this.latest = Math.max(this.latest, t);
      this.pendingAt = this.latest;
      return;
    }
  }
}

/** The runner's driver over a capture: each packet is sent in the direction the runner would pick. */
export function replayDriver(src: ReplaySource, ctx: TrafficContext): TrafficDriver {
  return {
    nextTime: () => src.nextTime(),
    fire(e: Engine) {
      const n = src.stats.frames;
      const p = src.take();
      ctx.send(packetDir(e, p), p, `f${n}`);
      src.advance();
    },
    summary: () => ({kind: 'replay', ...src.stats}),
  };
}

/**
 * Replay into a running simulation (the live UI): the capture's first packet at the simulation's
 * current virtual time, each packet as a scheduled action so traffic and timers interleave. A
 * capture that turns out corrupt half-way stops the replay; `error` then says why.
 */
export function scheduleReplay(sim: Simulation, src: ReplaySource): {readonly error: string | null; readonly done: boolean} {
  const base = sim.now;
  const state = {error: null as string | null, done: false};
  const step = () => {
    const e = sim.engine;
    try {
      while (src.nextTime() + base <= e.now) {
        const p = src.take();
        if (packetDir(e, p) === 'in') e.inbound(p);
        else e.outbound(p);
        src.advance();
      }
    } catch (err) {
      if (!(err instanceof CaptureError)) throw err;
      state.error = err.message;
      state.done = true;
      return;
    }
    if (src.nextTime() === Infinity) state.done = true;
    else sim.at(base + src.nextTime(), step);
  };
  if (src.nextTime() === Infinity) state.done = true;
  else sim.at(base + src.nextTime(), step);
  return state;
}
