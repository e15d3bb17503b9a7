// `lvsdeck lab up [--servers N] | down | status`: the network-namespace lab for the real data plane.
import {LabError, formatLabStatus, labDown, labStatus, labUp, requireRoot} from '../lab/lab.js';
import {intValue, parseCommandArgs, stringValue, UsageError} from './args.js';
import {LAB_SPEC} from './specs.js';

export async function run(args: string[]): Promise<number> {
  let verb: string, servers = 3;
  try {
    const {values, positionals} = parseCommandArgs(LAB_SPEC, args);
    verb = positionals[0]!;
    const serversText = stringValue(values, 'servers');
    if (verb !== 'up' && verb !== 'down' && verb !== 'status') throw new UsageError(`unknown action '${verb}' (usage: ${LAB_SPEC.usage})`);
    if (serversText !== undefined && verb !== 'up') throw new UsageError(`lab ${verb} takes no options`);
    // the lab module bounds the count itself (its RangeError is reported below)
    if (serversText !== undefined) servers = intValue('servers', serversText, 0, Number.MAX_SAFE_INTEGER);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`lvsdeck lab: ${err.message}\n`);
    return 2;
  }
  try {
    switch (verb) {
      case 'up': {
        const r = await labUp(servers);
        process.stdout.write(r.created ? 'lab: created\n' : 'lab: already up\n');
        process.stdout.write(formatLabStatus(r.status));
        return 0;
      }
      case 'down': {
        const removed = labDown();
        process.stdout.write(removed.length ? `lab: removed ${removed.join(' ')}\n` : 'lab: nothing to remove\n');
        return 0;
      }
      case 'status':
        requireRoot('lvsdeck lab status');
        process.stdout.write(formatLabStatus(labStatus()));
        return 0;
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
