// Scheduler registry: one module per scheduler registers its ops table by name, as the kernel's
// register_ip_vs_scheduler() does. The engine looks schedulers up here and nowhere else.
import type {Dest, SchedulerOps} from '../types.js';
import {DEST_F} from '../constants.js';

const schedulers = new Map<string, SchedulerOps>();

export function registerScheduler(ops: SchedulerOps): void {
  if (schedulers.has(ops.name)) throw new Error(`scheduler ${ops.name} registered twice`);
  schedulers.set(ops.name, ops);
}

export function findScheduler(name: string): SchedulerOps | undefined {
  return schedulers.get(name);
}

export function schedulerNames(): string[] {
  return [...schedulers.keys()].sort();
}

/** ip_vs_dest_conn_overhead: an active connection costs 256 inactive ones. */
export function connOverhead(d: Dest): number {
  return d.activeConns * 256 + d.inactConns;
}

export function isOverloaded(d: Dest): boolean {
  return (d.flags & DEST_F.OVERLOAD) !== 0;
}

export function isAvailable(d: Dest): boolean {
  return (d.flags & DEST_F.AVAILABLE) !== 0;
}

/**
 * The kernel compares "a × b > c × d" in 64-bit signed arithmetic. Products of connection
 * overheads (< 2^41) and weights (< 2^31) exceed 2^53, so compare exactly with BigInt only
 * when a double could round.
 */
export function productGreater(a: number, b: number, c: number, d: number): boolean {
  const left = a * b, right = c * d;
  if (left < 2 ** 53 && right < 2 ** 53) return left > right;
  return BigInt(a) * BigInt(b) > BigInt(c) * BigInt(d);
}

/** "no destination available" as the kernel logs it (ip_vs_scheduler_err). */
export function noDestMessage(schedName: string, svcLabel: string): string {
  return `${schedName}: ${svcLabel} - no destination available`;
}
