// `lvsdeck lab up [--servers N] | down | status`: the network-namespace lab for the real data plane.
import {LabError, formatLabStatus, labDown, labStatus, labUp, requireRoot} from '../lab/lab.js';

export const usage = 'network-namespace lab for --dataplane tun: up [--servers N] | down | status';

export async function run(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  try {
    switch (verb) {
      case 'up': {
        let servers = 3;
        for (let i = 0; i < rest.length; i++) {
          if (rest[i] === '--servers' && /^\d+$/.test(rest[i + 1] ?? '')) servers = Number(rest[++i]);
          else throw new LabError(`lab up: unknown argument '${rest[i]}' (usage: lab up [--servers N])`);
        }
        const r = await labUp(servers);
        process.stdout.write(r.created ? 'lab: created\n' : 'lab: already up\n');
        process.stdout.write(formatLabStatus(r.status));
        return 0;
      }
      case 'down': {
        if (rest.length) throw new LabError('lab down takes no arguments');
        const removed = labDown();
        process.stdout.write(removed.length ? `lab: removed ${removed.join(' ')}\n` : 'lab: nothing to remove\n');
        return 0;
      }
      case 'status':
        if (rest.length) throw new LabError('lab status takes no arguments');
        requireRoot('lvsdeck lab status');
        process.stdout.write(formatLabStatus(labStatus()));
        return 0;
      default:
        process.stderr.write(`usage: lvsdeck lab up [--servers N] | down | status\n`);
        return 2;
    }
  } catch (e) {
    if (e instanceof LabError || e instanceof RangeError) {
      process.stderr.write(`lvsdeck: ${e.message}\n`);
      return 1;
    }
    if (e instanceof Error && /real servers/.test(e.message)) {
      process.stderr.write(`lvsdeck: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
