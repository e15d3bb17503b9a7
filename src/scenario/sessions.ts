// Scripted client sessions expanded into the packets a TCP, UDP or SCTP exchange makes in both
// directions. The plan is a list of flights; the client's go to the virtual service, the server's
// come from whichever real server the engine chose (NAT: through the director; DR/TUN: straight
// to the client, so the director never sees them). Dropped client packets are retransmitted the
// way a Linux client does (SYN: 1 s, doubling, 6 retries; data: 200 ms doubling up to 120 s,
// 15 retries; SCTP: 3 s doubling, 8 retries for INIT, 5 otherwise).
import type {Af} from '../engine/addr.js';
import type {SessionItem} from './types.js';

export interface Flight {
  /** 'c' = client -> virtual service, 's' = real server -> client. */
  from: 'c' | 's';
  /** ms after the previous flight was sent. */
  delay: number;
  /** TCP flags ("S", "SA", "PA"...). */
  flags?: string;
  /** SCTP first chunk. */
  chunk?: string;
  /** IP length in bytes. */
  len: number;
  /** First packet of a connection (SYN / INIT): retransmitted with the connection-setup timer. */
  opening: boolean;
}

const TCP_SYN_LEN: Record<Af, number> = {4: 60, 6: 80};
/** IP + TCP header with the timestamp option. */
const TCP_HDR: Record<Af, number> = {4: 52, 6: 72};
const TCP_MSS: Record<Af, number> = {4: 1448, 6: 1428};
const UDP_HDR: Record<Af, number> = {4: 28, 6: 48};
const UDP_MAX: Record<Af, number> = {4: 1472, 6: 1452};
/** IP + SCTP common header. */
const SCTP_HDR: Record<Af, number> = {4: 32, 6: 52};
const SCTP_MAX_DATA: Record<Af, number> = {4: 1452, 6: 1432};

function segments(total: number, mss: number): number[] {
  const out: number[] = [];
  for (let left = total; left > 0; left -= mss) out.push(Math.min(mss, left));
  return out;
}

/** The flights of one session, in order. `d` = half the round-trip time. */
export function planSession(s: SessionItem): Flight[] {
  const af = s.client.af;
  const d = Math.floor(s.rtt / 2);
  const out: Flight[] = [];
  let lastFrom: 'c' | 's' | null = null;
  const push = (from: 'c' | 's', len: number, extra: Partial<Flight>, extraDelay = 0) => {
    const delay = (lastFrom === null || lastFrom === from ? 0 : d) + extraDelay;
    out.push({from, delay, len, opening: false, ...extra});
    lastFrom = from;
  };

  if (s.proto === 'udp') {
    const req = s.request > 0 ? segments(s.request, UDP_MAX[af]) : [0];
    for (const n of req) push('c', UDP_HDR[af] + n, {});
    for (const n of segments(s.response, UDP_MAX[af])) push('s', UDP_HDR[af] + n, {});
    return out;
  }

  if (s.proto === 'sctp') {
    const h = SCTP_HDR[af];
    push('c', h + 56, {chunk: 'init', opening: true});
    push('s', h + 276, {chunk: 'init_ack'});
    push('c', h + 244, {chunk: 'cookie_echo'});
    push('s', h + 4, {chunk: 'cookie_ack'});
    for (const n of segments(s.request, SCTP_MAX_DATA[af])) push('c', h + 16 + n, {chunk: 'data'});
    if (s.request > 0 && s.response === 0) push('s', h + 16, {chunk: 'sack'});
    for (const n of segments(s.response, SCTP_MAX_DATA[af])) push('s', h + 16 + n, {chunk: 'data'});
    if (s.response > 0) push('c', h + 16, {chunk: 'sack'});
    const closer = s.close === 'server' ? 's' : 'c';
    const other = closer === 'c' ? 's' : 'c';
    if (s.close === 'reset') push('c', h + 4, {chunk: 'abort'}, s.pause);
    else if (s.close !== 'hold') {
      push(closer, h + 8, {chunk: 'shutdown'}, s.pause);
      push(other, h + 4, {chunk: 'shutdown_ack'});
      push(closer, h + 4, {chunk: 'shutdown_complete'});
    }
    return out;
  }

  const hdr = TCP_HDR[af];
  push('c', TCP_SYN_LEN[af], {flags: 'S', opening: true});
  push('s', TCP_SYN_LEN[af], {flags: 'SA'});
  push('c', hdr, {flags: 'A'});
  for (const n of segments(s.request, TCP_MSS[af])) push('c', hdr + n, {flags: 'PA'});
  if (s.request > 0 && s.response === 0) push('s', hdr, {flags: 'A'});
  for (const n of segments(s.response, TCP_MSS[af])) push('s', hdr + n, {flags: 'PA'});
  if (s.response > 0) push('c', hdr, {flags: 'A'});
  if (s.close === 'reset') {
    push('c', hdr, {flags: 'R'}, s.pause);
  } else if (s.close !== 'hold') {
    const closer = s.close === 'server' ? 's' : 'c';
    const other = closer === 'c' ? 's' : 'c';
    push(closer, hdr, {flags: 'FA'}, s.pause);
    push(other, hdr, {flags: 'FA'});
    push(closer, hdr, {flags: 'A'});
  }
  return out;
}

/** Retransmission timeout (ms) before retry number `retry` (1-based), or null when the client gives up. */
export function retransmitDelay(proto: 'tcp' | 'udp' | 'sctp', opening: boolean, retry: number): number | null {
  if (proto === 'udp') return null;
  if (proto === 'sctp') {
    if (retry > (opening ? 8 : 5)) return null;
    return Math.min(3000 * 2 ** (retry - 1), 60_000);
  }
  if (opening) return retry > 6 ? null : 1000 * 2 ** (retry - 1);
  if (retry > 15) return null;
  return Math.min(200 * 2 ** (retry - 1), 120_000);
}
