// `lvsdeck run FILE [--until 90s] [--json] [--trace] [--packets] [--max-conns N]`: run a scenario file headless on
// virtual time and print its report (or one JSON document).
import {parseScenario} from '../scenario/load.js';
import {BOUNDS, fileErrorText, readBoundedFile, readBoundedStream} from '../util/bounds.js';
import {startCaptureOut} from '../metrics/cli.js';
import {runScenario} from '../scenario/runner.js';
import {streamedOutput} from '../scenario/text-stream.js';
import {ScenarioError} from '../scenario/types.js';
import {parseTime} from '../scenario/units.js';
import {intValue, parseCommandArgs, stringValue, unitValue, UsageError} from './args.js';
import {RUN_SPEC} from './specs.js';
import {progressLine} from './progress.js';

export async function run(args: string[]): Promise<number> {
  let file: string;
  let until: number | null = null;
  let json: boolean, trace: boolean, packets: boolean;
  let maxConns = Infinity;
  let captureFile: string | null;
  try {
    const {values, positionals} = parseCommandArgs(RUN_SPEC, args);
    file = positionals[0]!;
    const u = stringValue(values, 'until');
    if (u !== undefined) until = unitValue('until', u, parseTime);
    const m = stringValue(values, 'max-conns');
    if (m !== undefined) maxConns = intValue('max-conns', m, 0, Number.MAX_SAFE_INTEGER);
    json = values.json === true;
    trace = values.trace === true;
    packets = values.packets === true;
    captureFile = stringValue(values, 'capture-out') ?? null;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`lvsdeck run: ${err.message}\n`);
    return 2;
  }
  let text: string;
  try {
    text = file === '-' ? await readBoundedStream(process.stdin, BOUNDS.configFileBytes, 'standard input')
      : readBoundedFile(file, BOUNDS.configFileBytes);
  } catch (err) {
    process.stderr.write(`lvsdeck run: cannot read ${file}: ${fileErrorText(err)}\n`);
    return 1;
  }
  try {
    const sc = parseScenario(text, file);
    let finishCapture = () => {};
    const end = until ?? sc.until;
    const progress = end === null ? null : progressLine(process.stderr, end, {describe: (t) => `t=${(t / 1000).toFixed(0)}s of ${(end / 1000).toFixed(0)}s`});
    // written as the run goes where it can be (text with --trace, --json --packets, --json --trace)
    const output = streamedOutput({json, trace, packets, maxConns});
    const result = await runScenario(sc, {
      until, ...output.options,
      ...(progress ? {pace: (t: number) => progress.update(t)} : {}),
      onEngine: (e) => {
        finishCapture = startCaptureOut(e, {captureOut: captureFile ?? undefined});
      },
    }).finally(() => { progress?.clear(); finishCapture(); });
    output.finish(result);
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
