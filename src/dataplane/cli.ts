// The front ends' one call: start the data plane or print the one-sentence reason it cannot run.
import type {Simulation} from '../sim/simulation.js';
import {DataplaneUnavailable, type DataplaneOptions, type RunningDataplane, startDataplane} from './run.js';

export function startDataplaneForCli(sim: Simulation, o: DataplaneOptions): (RunningDataplane & {message: string}) | null {
  try {
    const dp = startDataplane(sim, o);
    const where = dp.netns ? ` in namespace ${dp.netns}` : '';
    const mem = o.hostMemory ? 'memory: this host' : 'memory: modelled host';
    return {...dp, message: `real data plane on ${dp.device.name}${where} (wall-clock time; ${mem})`};
  } catch (e) {
    if (e instanceof DataplaneUnavailable) {
      process.stderr.write(`lvsdeck: ${e.message}\n`);
      return null;
    }
    throw e;
  }
}
