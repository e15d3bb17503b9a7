// `lvsdeck run FILE [--until 90s] [--json] [--trace] [--packets] [--max-conns N]`: run a scenario file headless on
// virtual time and print its report (or one JSON document).
import {readFileSync} from 'node:fs';
import {parseScenario} from '../scenario/load.js';
import {startCaptureOut} from '../metrics/cli.js';
import {runJson} from '../scenario/json.js';
import {renderText, runScenario} from '../scenario/runner.js';
import {ScenarioError} from '../scenario/types.js';
import {UnitError, parseTime} from '../scenario/units.js';

export const usage = 'run a scenario file headless: FILE [--until 90s] [--json] [--trace] [--packets] [--max-conns N] [--capture-out F]';

const HELP = `usage: lvsdeck run FILE [--until TIME] [--json] [--trace] [--packets] [--max-conns N] [--capture-out F]

Runs a scenario (YAML, see docs/scenario-format.md) on virtual time and prints its report items
exactly as ipvsadm, sysctl and procfs print them.

  --until TIME   end of the run (e.g. 90s, 2m, 1500ms); default: the scenario's until:, else
                 the time of the last event
  --json         print one JSON document (schema lvsdeck.run/1) instead of the report text
  --trace        one line per packet: what the engine did and why (in the JSON: "trace")
  --packets      with --json: per-packet verdict records ("packets")
  --max-conns N  with --json: list at most N connection entries (all by default)
  --capture-out FILE  write every packet the engine sees to FILE (.pcapng: with verdict comments;
                 otherwise pcap, drops listed in FILE.drops); lvsdeck replay reads it back
`;

export async function run(args: string[]): Promise<number> {
  let file: string | null = null;
  let until: number | null = null;
  let json = false, trace = false, packets = false;
  let maxConns = Infinity;
  let captureFile: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') json = true;
    else if (a === '--trace') trace = true;
    else if (a === '--packets') packets = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(HELP);
      return 0;
    } else if (a === '--max-conns' || a.startsWith('--max-conns=')) {
      const v = a === '--max-conns' ? args[++i] : a.slice('--max-conns='.length);
      if (v === undefined || !/^\d+$/.test(v)) {
        process.stderr.write('lvsdeck run: --max-conns needs a number\n');
        return 2;
      }
      maxConns = Number(v);
    } else if (a === '--capture-out' || a.startsWith('--capture-out=')) {
      const v = a === '--capture-out' ? args[++i] : a.slice('--capture-out='.length);
      if (!v) {
        process.stderr.write('lvsdeck run: --capture-out needs a file name\n');
        return 2;
      }
      captureFile = v;
    } else if (a === '--until' || a.startsWith('--until=')) {
      const v = a === '--until' ? args[++i] : a.slice('--until='.length);
      if (v === undefined) {
        process.stderr.write('lvsdeck run: --until needs a time (e.g. 90s)\n');
        return 2;
      }
      try {
        until = parseTime(v);
      } catch (err) {
        if (err instanceof UnitError) {
          process.stderr.write(`lvsdeck run: --until: ${err.message}\n`);
          return 2;
        }
        throw err;
      }
    } else if (a.startsWith('-') && a !== '-') {
      process.stderr.write(`lvsdeck run: unknown option '${a}'\n${HELP}`);
      return 2;
    } else if (file === null) {
      file = a;
    } else {
      process.stderr.write(`lvsdeck run: unexpected argument '${a}'\n`);
      return 2;
    }
  }
  if (file === null) {
    process.stderr.write(HELP);
    return 2;
  }
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(`lvsdeck run: cannot read ${file}: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    const sc = parseScenario(text, file);
    let finishCapture = () => {};
    const result = await runScenario(sc, {
      until, trace, packets: packets && json,
      onEngine: (e) => {
        finishCapture = startCaptureOut(e, {captureOut: captureFile ?? undefined});
      },
    }).finally(() => finishCapture());
    if (json) process.stdout.write(`${JSON.stringify(runJson(result, {trace, packets, maxConns}), null, 2)}\n`);
    else process.stdout.write(renderText(result));
    return 0;
  } catch (err) {
    if (err instanceof ScenarioError) {
      process.stderr.write(`lvsdeck run: ${err.format(file)}\n`);
      return 1;
    }
    if (captureFile !== null && (err as NodeJS.ErrnoException).syscall === 'open') {
      process.stderr.write(`lvsdeck run: --capture-out ${captureFile}: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
}
