// Which backend a long-running UI command (ui, serve) runs over, from its flags (spec:
// BACKEND_OPTIONS in src/cli/specs.ts): the simulation, the real data plane (--dataplane tun), or
// the host kernel's IPVS (--kernel). Flags that do not go together are refused here, in one line,
// before anything starts.
import {type OptionValues, stringValue, UsageError} from './args.js';

export type BackendChoice =
  | {kind: 'simulation'}
  | {kind: 'dataplane'; dev?: string; hostMemory: boolean}
  | {kind: 'kernel'; allowWrites: boolean};

/** Flags about the simulated engine: what it starts from, its virtual time, its sync daemons and observers. */
const NOT_WITH_KERNEL = ['config', 'seed', 'speed', 'memory', 'replay', 'sync', 'sync-peer', 'mcast-interface', 'syncid',
  'sync-allow', 'metrics', 'metrics-public', 'capture-out'];

export function readBackendChoice(values: OptionValues): BackendChoice {
  const kernel = values.kernel === true;
  const allowWrites = values['allow-writes'] === true;
  const dataplane = stringValue(values, 'dataplane');
  const dev = stringValue(values, 'dev');
  const hostMemory = stringValue(values, 'memory') === 'host';
  if (dataplane !== undefined && dataplane !== 'tun') throw new UsageError(`--dataplane: only 'tun' is supported, not '${dataplane}'`);
  if (allowWrites && !kernel) throw new UsageError('--allow-writes goes with --kernel');
  if (kernel) {
    if (dataplane !== undefined || dev !== undefined) {
      throw new UsageError('--kernel and --dataplane are two different backends: choose one');
    }
    const given = NOT_WITH_KERNEL.filter((name) => values[name] !== undefined);
    if (given.length) {
      throw new UsageError(`--kernel shows the running kernel's own configuration, sync daemons and wall-clock time: drop ${given.map((n) => `--${n}`).join(', ')}`);
    }
    return {kind: 'kernel', allowWrites};
  }
  if (dataplane === undefined) {
    if (dev !== undefined || hostMemory) throw new UsageError('--dev and --memory host go with --dataplane tun');
    return {kind: 'simulation'};
  }
  if (values.speed !== undefined) throw new UsageError('--dataplane runs on wall-clock time: drop --speed');
  return {kind: 'dataplane', ...(dev !== undefined ? {dev} : {}), hostMemory};
}
