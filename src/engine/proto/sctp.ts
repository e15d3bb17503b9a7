// SCTP state machine of IPVS (ip_vs_proto_sctp.c): states, timeouts, the event mapping of the
// first chunk (sctp_events) and the three direction tables (sctp_states) as data.
import {SCTP_CHUNK, SECOND} from '../constants.js';

export const SCTP_STATE = {
  NONE: 0, INIT1: 1, INIT: 2, COOKIE_SENT: 3, COOKIE_REPLIED: 4, COOKIE_WAIT: 5, COOKIE: 6,
  COOKIE_ECHOED: 7, ESTABLISHED: 8, SHUTDOWN_SENT: 9, SHUTDOWN_RECEIVED: 10, SHUTDOWN_ACK_SENT: 11,
  REJECTED: 12, CLOSED: 13, LAST: 14,
} as const;

export const SCTP_STATE_NAMES: readonly string[] = [
  'NONE', 'INIT1', 'INIT', 'C-SENT', 'C-REPLIED', 'C-WAIT', 'COOKIE', 'C-ECHOED', 'ESTABLISHED',
  'S-SENT', 'S-RECEIVED', 'S-ACK-SENT', 'REJECTED', 'CLOSED', 'BUG!',
];

const MAX_RTO = 61 * SECOND; // IP_VS_SCTP_MAX_RTO = (60 + 1) * HZ
/** sctp_timeouts[] in ms. */
export const SCTP_DEFAULT_TIMEOUTS: readonly number[] = [
  2 * SECOND, 4 * SECOND, MAX_RTO, MAX_RTO, MAX_RTO, MAX_RTO, MAX_RTO, MAX_RTO, 900 * SECOND,
  MAX_RTO, MAX_RTO, MAX_RTO, 4 * SECOND, MAX_RTO, 2 * SECOND,
];

export const SCTP_ACTIVE: readonly boolean[] = SCTP_DEFAULT_TIMEOUTS.map((_, s) => s === SCTP_STATE.ESTABLISHED);

/** Events in table row order. */
export const SCTP_EVENT = {
  DATA: 0, INIT: 1, INIT_ACK: 2, COOKIE_ECHO: 3, COOKIE_ACK: 4, SHUTDOWN: 5, SHUTDOWN_ACK: 6,
  SHUTDOWN_COMPLETE: 7, ERROR: 8, ABORT: 9,
} as const;

const CHUNK_EVENT: Record<number, number> = {
  [SCTP_CHUNK.DATA]: SCTP_EVENT.DATA,
  [SCTP_CHUNK.INIT]: SCTP_EVENT.INIT,
  [SCTP_CHUNK.INIT_ACK]: SCTP_EVENT.INIT_ACK,
  [SCTP_CHUNK.SACK]: SCTP_EVENT.DATA,
  [SCTP_CHUNK.HEARTBEAT]: SCTP_EVENT.DATA,
  [SCTP_CHUNK.HEARTBEAT_ACK]: SCTP_EVENT.DATA,
  [SCTP_CHUNK.ABORT]: SCTP_EVENT.ABORT,
  [SCTP_CHUNK.SHUTDOWN]: SCTP_EVENT.SHUTDOWN,
  [SCTP_CHUNK.SHUTDOWN_ACK]: SCTP_EVENT.SHUTDOWN_ACK,
  [SCTP_CHUNK.ERROR]: SCTP_EVENT.ERROR,
  [SCTP_CHUNK.COOKIE_ECHO]: SCTP_EVENT.COOKIE_ECHO,
  [SCTP_CHUNK.COOKIE_ACK]: SCTP_EVENT.COOKIE_ACK,
  [SCTP_CHUNK.ECNE]: SCTP_EVENT.DATA,
  [SCTP_CHUNK.CWR]: SCTP_EVENT.DATA,
  [SCTP_CHUNK.SHUTDOWN_COMPLETE]: SCTP_EVENT.SHUTDOWN_COMPLETE,
};

/**
 * Event of a packet from its first chunk. A COOKIE_ECHO or COOKIE_ACK of length >= 4 followed by
 * an ABORT counts as ABORT (set_sctp_state looks at the next chunk). Types >= 15 are DATA.
 */
export function sctpEvent(firstChunk: number, firstLen: number, nextChunk: number): number {
  if ((firstChunk === SCTP_CHUNK.COOKIE_ECHO || firstChunk === SCTP_CHUNK.COOKIE_ACK) && firstLen >= 4 &&
      nextChunk === SCTP_CHUNK.ABORT) {
    return SCTP_EVENT.ABORT;
  }
  if (firstChunk >= 15) return SCTP_EVENT.DATA;
  return CHUNK_EVENT[firstChunk] ?? SCTP_EVENT.DATA;
}

const {NONE: NO, INIT1: I1, INIT: IN, COOKIE_SENT: CS, COOKIE_REPLIED: CR, COOKIE_WAIT: CW, COOKIE: CO,
  COOKIE_ECHOED: CE, ESTABLISHED: ES, SHUTDOWN_SENT: SS, SHUTDOWN_RECEIVED: SR, SHUTDOWN_ACK_SENT: SA,
  REJECTED: RJ, CLOSED: CL} = SCTP_STATE;
void NO;

/** sctp_states: [direction][event][current state] -> new state. */
export const SCTP_STATES: readonly (readonly (readonly number[])[])[] = 
[
  // INPUT: rows d i i_a c_e c_a s s_a s_c err ab; columns NO I1 IN CS CR CW CO CE ES SS SR SA RJ CL
  [
    [ES, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
    [I1, IN, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, IN, IN],
    [CW, CW, CW, CS, CR, CO, CO, CE, ES, SS, SR, SA, RJ, CL],
    [CR, IN, IN, CR, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
    [ES, I1, IN, CS, CR, CW, CO, ES, ES, SS, SR, SA, RJ, CL],
    [SR, I1, IN, CS, CR, CW, CO, CE, SR, SS, SR, SA, RJ, CL],
    [CL, IN, IN, CS, CR, CW, CO, CE, ES, CL, SR, CL, RJ, CL],
    [CL, CL, CL, CS, CR, CW, CO, CE, ES, SS, SR, CL, RJ, CL],
    [CL, I1, IN, CS, CR, CW, CO, CL, ES, SS, SR, SA, RJ, CL],
    [CL, CL, CL, CL, CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL],
  ],
  // OUTPUT: rows d i i_a c_e c_a s s_a s_c err ab; columns NO I1 IN CS CR CW CO CE ES SS SR SA RJ CL
  [
    [ES, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
    [CW, CW, CW, CW, CW, CW, CW, CW, ES, CW, CW, CW, CW, CW],
    [CS, CS, CS, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
    [CE, CE, CE, CE, CE, CE, CE, CE, ES, SS, SR, SA, RJ, CL],
    [ES, ES, ES, ES, ES, ES, ES, ES, ES, SS, SR, SA, RJ, CL],
    [SS, SS, SS, SS, SS, SS, SS, SS, SS, SS, SR, SA, RJ, CL],
    [SA, SA, SA, SA, SA, CW, CO, CE, ES, SA, SA, SA, RJ, CL],
    [CL, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
    [CL, CL, CL, CL, CL, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
    [CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL],
  ],
  // INPUT_ONLY: rows d i i_a c_e c_a s s_a s_c err ab; columns NO I1 IN CS CR CW CO CE ES SS SR SA RJ CL
  [
    [ES, I1, IN, CS, CR, ES, CO, CE, ES, SS, SR, SA, RJ, CL],
    [I1, IN, IN, IN, IN, IN, CO, CE, ES, SS, SR, SA, IN, IN],
    [CE, CE, CE, CE, CE, CE, CO, CE, ES, SS, SR, SA, RJ, CL],
    [ES, ES, ES, ES, ES, ES, CO, CE, ES, SS, SR, SA, RJ, CL],
    [ES, I1, IN, ES, ES, CW, ES, ES, ES, SS, SR, SA, RJ, CL],
    [SR, I1, IN, CS, CR, CW, CO, CE, SR, SS, SR, SA, RJ, CL],
    [CL, IN, IN, CS, CR, CW, CO, CE, CL, CL, SR, CL, RJ, CL],
    [CL, CL, CL, CL, CL, CW, CO, CE, ES, SS, CL, CL, RJ, CL],
    [CL, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
    [CL, CL, CL, CL, CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL],
  ],
];

export function sctpNextState(dir: number, event: number, state: number): number {
  return SCTP_STATES[dir]![event]![state]!;
}
