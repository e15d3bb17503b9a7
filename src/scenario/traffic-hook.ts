// The seam between scenario runs and traffic generators (attack generators, recorded captures,
// timed events), which live outside this module. A scenario's `traffic:` and `events:` entries
// are handed, unchanged and with their file positions, to a registered TrafficHook, which turns
// them into drivers that the runner merges with the scenario's own packets, sessions and actions
// on virtual time.
//
// Registration: call registerTrafficHook(hook), or ship src/traffic/index.ts exporting
// `trafficHook: TrafficHook`; the runner imports that module on demand when a scenario has
// traffic/events entries. Without a hook such a scenario fails with "traffic generators not
// available".
import type {TrafficHook} from '../traffic/hook.js';

export type {TrafficContext, TrafficDriver, TrafficEntry, TrafficHook} from '../traffic/hook.js';

let hook: TrafficHook | null = null;

export function registerTrafficHook(h: TrafficHook | null): void {
  hook = h;
}

export function getTrafficHook(): TrafficHook | null {
  return hook;
}

/**
 * Find the traffic module if it is installed (src/traffic/index.ts exporting `trafficHook`).
 * Returns the registered hook or null.
 */
export async function loadTrafficHook(): Promise<TrafficHook | null> {
  if (hook) return hook;
  const spec = '../traffic/index.js';
  try {
    const mod = (await import(spec)) as {trafficHook?: unknown};
    if (typeof mod.trafficHook === 'function' && !hook) hook = mod.trafficHook as TrafficHook;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      /traffic[\\/]index/.test(String((err as Error).message));
    if (!missing) throw err;
  }
  return hook;
}
