// TCP state machine of IPVS (ip_vs_proto_tcp.c): states, default timeouts, the normal and the
// secure_tcp ("dos") transition tables as data, and the event classification of tcp_state_idx.
import {SECOND, TCP_FLAG} from '../constants.js';

export const TCP_STATE = {
  NONE: 0, ESTABLISHED: 1, SYN_SENT: 2, SYN_RECV: 3, FIN_WAIT: 4, TIME_WAIT: 5, CLOSE: 6,
  CLOSE_WAIT: 7, LAST_ACK: 8, LISTEN: 9, SYNACK: 10, LAST: 11,
} as const;

/** Names as /proc/net/ip_vs_conn and ipvsadm -lnc print them (tcp_state_name_table). */
export const TCP_STATE_NAMES: readonly string[] = [
  'NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT',
  'LAST_ACK', 'LISTEN', 'SYNACK', 'BUG!',
];

/** tcp_timeouts[] in ms. */
export const TCP_DEFAULT_TIMEOUTS: readonly number[] = [
  2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120, 2,
].map((s) => s * SECOND);

/** tcp_state_active_table: states counted in ActiveConn. */
export const TCP_ACTIVE: readonly boolean[] = [
  false, true, true, true, false, false, false, false, false, false, true, false,
];

/** Direction index into the tables: INPUT, OUTPUT, INPUT_ONLY. */
export const DIR = {INPUT: 0, OUTPUT: 1, INPUT_ONLY: 2} as const;

/** Events in table row order. */
export const TCP_EVENT = {SYN: 0, FIN: 1, ACK: 2, RST: 3} as const;

/** tcp_state_idx: one event per segment, by priority RST > SYN > FIN > ACK; -1 = no event. */
export function tcpEvent(flags: number): number {
  if (flags & TCP_FLAG.RST) return TCP_EVENT.RST;
  if (flags & TCP_FLAG.SYN) return TCP_EVENT.SYN;
  if (flags & TCP_FLAG.FIN) return TCP_EVENT.FIN;
  if (flags & TCP_FLAG.ACK) return TCP_EVENT.ACK;
  return -1;
}

const {NONE: NO, ESTABLISHED: ES, SYN_SENT: SS, SYN_RECV: SR, FIN_WAIT: FW, TIME_WAIT: TW, CLOSE: CL,
  CLOSE_WAIT: CW, LAST_ACK: LA, LISTEN: LI, SYNACK: SA} = TCP_STATE;
void NO;

type Table = readonly (readonly (readonly number[])[])[];

/** tcp_states: [direction][event][current state] -> new state. */
export const TCP_STATES_NORMAL: Table = 
[
  // INPUT: rows syn, fin, ack, rst; columns NO ES SS SR FW TW CL CW LA LI SA
  [
    [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
    [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
  ],
  // OUTPUT: rows syn, fin, ack, rst; columns NO ES SS SR FW TW CL CW LA LI SA
  [
    [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
    [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
    [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
  ],
  // INPUT_ONLY: rows syn, fin, ack, rst; columns NO ES SS SR FW TW CL CW LA LI SA
  [
    [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
    [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
  ],
];

/** tcp_states_dos, selected while the effective secure_tcp level is >= 2. */
export const TCP_STATES_SECURE: Table = [
  // INPUT: rows syn, fin, ack, rst; columns NO ES SS SR FW TW CL CW LA LI SA
  [
    [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SA],
    [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, SA],
    [ES, ES, SS, SR, FW, TW, CL, CW, CL, LI, SA],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
  ],
  // OUTPUT: rows syn, fin, ack, rst; columns NO ES SS SR FW TW CL CW LA LI SA
  [
    [SS, ES, SS, SA, SS, SS, SS, SS, SS, LI, SA],
    [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
    [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
  ],
  // INPUT_ONLY: rows syn, fin, ack, rst; columns NO ES SS SR FW TW CL CW LA LI SA
  [
    [SA, ES, ES, SR, SA, SA, SA, SA, SA, SA, SA],
    [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
  ],
];

/** set_tcp_state's lookup: the new state, CLOSE when the segment carries no known flag. */
export function tcpNextState(secure: boolean, dir: number, flags: number, state: number): number {
  const ev = tcpEvent(flags);
  if (ev < 0) return CL;
  return (secure ? TCP_STATES_SECURE : TCP_STATES_NORMAL)[dir]![ev]![state]!;
}
