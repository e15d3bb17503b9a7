// UDP in IPVS (ip_vs_proto_udp.c): a single NORMAL state, 300 s, never counted active.
import {SECOND} from '../constants.js';

export const UDP_STATE = {NORMAL: 0, LAST: 1} as const;
export const UDP_STATE_NAMES: readonly string[] = ['UDP', 'BUG!'];
export const UDP_DEFAULT_TIMEOUTS: readonly number[] = [300 * SECOND, 2 * SECOND];
export const UDP_ACTIVE: readonly boolean[] = [false, false];
