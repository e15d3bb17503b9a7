// The front ends' one call: start the data plane or print the one-sentence reason it cannot run.
import type {Simulation} from '../sim/simulation.js';
import type {ClockControl} from '../store/backend.js';
import {DataplaneBackend} from './backend.js';
import {DataplaneUnavailable, type DataplaneOptions, type RunningDataplane, startDataplane} from './run.js';

export interface CliDataplane extends RunningDataplane {
  message: string;
  /** The UI's backend: engine commands as usual, attacks as real generators in the lab. */
  makeBackend: (sim: Simulation, clock: ClockControl) => DataplaneBackend;
}

export function startDataplaneForCli(sim: Simulation, o: DataplaneOptions): CliDataplane | null {
  try {
    const dp = startDataplane(sim, o);
    const where = dp.netns ? ` in namespace ${dp.netns}` : '';
    const mem = o.hostMemory ? 'memory: this host' : 'memory: modelled host';
    const backends: DataplaneBackend[] = [];
    const stop = dp.stop;
    return {
      ...dp,
      message: `real data plane on ${dp.device.name}${where} (wall-clock time; ${mem})`,
      makeBackend: (s, clock) => {
        const b = new DataplaneBackend(s, clock);
        backends.push(b);
        return b;
      },
      stop: () => {
        for (const b of backends) b.stopAll();
        stop();
      },
    };
  } catch (e) {
    if (e instanceof DataplaneUnavailable) {
      process.stderr.write(`lvsdeck: ${e.message}\n`);
      return null;
    }
    throw e;
  }
}
