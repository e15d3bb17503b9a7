// Watching every packet an engine handles, whoever sends it (scenario runner, traffic generators,
// replay, the live UI), with its verdict. The engine has no observer list of its own, so a tap
// wraps the instance's inbound/outbound methods; taps stack, and removing one restores the
// methods it wrapped.
import {formatAddrPort} from '../engine/addr.js';
import type {Engine} from '../engine/engine.js';
import type {Packet, Verdict} from '../engine/types.js';
import {CaptureWriter, formatFor} from './pcap-write.js';
import {closeSync, openSync, writeSync} from 'node:fs';

export type PacketObserver = (dir: 'in' | 'out', p: Packet, v: Verdict, now: number) => void;

/** Call `fn` after every packet the engine handles; returns a function that removes the tap. */
export function tapEngine(e: Engine, fn: PacketObserver): () => void {
  const inbound = e.inbound, outbound = e.outbound;
  e.inbound = function (p: Packet): Verdict {
    const v = inbound.call(this, p);
    fn('in', p, v, this.now);
    return v;
  };
  e.outbound = function (p: Packet): Verdict {
    const v = outbound.call(this, p);
    fn('out', p, v, this.now);
    return v;
  };
  return () => {
    e.inbound = inbound;
    e.outbound = outbound;
  };
}

/** One line: direction, action and why, and where the packet went ("in forward 10.0.0.2:80 Masq"). */
export function verdictText(dir: 'in' | 'out', v: Verdict): string {
  let s = `${dir} ${v.action}`;
  if (v.reason) s += ` ${v.reason}`;
  if (v.dest) s += ` ${formatAddrPort(v.dest.addr, v.dest.port)} ${v.dest.fwd}`;
  if (v.icmpSent) s += ` (ICMP ${v.icmpSent.type}/${v.icmpSent.code} sent)`;
  return s;
}

/** The file beside a classic pcap that lists its dropped packets (pcap has no comments). */
export function dropsFileFor(path: string): string {
  return `${path}.drops`;
}

/**
 * Record what `e` sees into `path` (pcap or pcapng by the extension) until the returned close()
 * is called. pcapng: every packet carries "lvsdeck: <verdict>" as a comment; pcap: dropped packets
 * are listed in PATH.drops (frame number, time, direction, reason), frame 1 being the first packet.
 */
export function captureOut(e: Engine, path: string): {close(): void; readonly packets: number} {
  const w = new CaptureWriter(path);
  const dropsFd = w.format === 'pcap' ? openSync(dropsFileFor(path), 'w') : null;
  if (dropsFd !== null) writeSync(dropsFd, '# frame\ttime_s\tdirection\treason\n');
  const untap = tapEngine(e, (dir, p, v, now) => {
    w.write(now, p, `lvsdeck: ${verdictText(dir, v)}`);
    if (dropsFd !== null && v.action === 'drop') writeSync(dropsFd, `${w.packets}\t${(now / 1000).toFixed(6)}\t${dir}\t${v.reason}\n`);
  });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    process.off('exit', close);
    untap();
    w.close();
    if (dropsFd !== null) closeSync(dropsFd);
  };
  // The live UI and the daemons may end with process.exit(): the buffered packets still reach the file.
  process.on('exit', close);
  return {
    get packets() {
      return w.packets;
    },
    close,
  };
}

export {formatFor};
