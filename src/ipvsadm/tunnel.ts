// Tunnel encapsulation settings of a real server (--tun-type/--tun-port/--tun-*csum). The engine
// does not model encapsulation, so ipvsadm keeps them beside each Dest, for -S, --tun-info and the
// state file.
import type {Dest} from '../engine/types.js';
import {TUN_FLAG, type TunType} from './parse.js';

export interface TunInfo {
  /** 0 ipip, 1 gue, 2 gre. */
  type: TunType;
  port: number;
  /** TUN_FLAG value: 0 no checksum, 1 checksum, 2 remote checksum. */
  flags: number;
}

const INFO = new WeakMap<Dest, TunInfo>();

export function setTunInfo(dest: Dest, info: TunInfo): void {
  INFO.set(dest, {...info});
}

export function getTunInfo(dest: Dest): TunInfo {
  return INFO.get(dest) ?? {type: 0, port: 0, flags: TUN_FLAG.NOCSUM};
}
