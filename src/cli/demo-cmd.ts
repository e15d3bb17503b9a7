// `lvsdeck demo`: run the embedded demo headless and print a summary every virtual few seconds.
import {buildDemo} from '../demo/default-config.js';
import {SECOND} from '../engine/constants.js';
import {parseTime} from '../scenario/units.js';
import {intValue, numberValue, parseCommandArgs, stringValue, unitValue, UsageError} from './args.js';
import {BOUNDS} from '../util/bounds.js';
import {DEMO_SPEC} from './specs.js';
import {progressLine} from './progress.js';

const secs = (ms: number) => `${Math.round(ms / SECOND)}s`;

interface DemoArgs {
  total: number;
  every: number;
  flood: number;
  seed: number;
}

export function parseDemoArgs(args: string[]): DemoArgs {
  const {values} = parseCommandArgs(DEMO_SPEC, args);
  const time = (name: string, dflt: number) => {
    const v = stringValue(values, name);
    return v === undefined ? dflt : unitValue(name, v, parseTime);
  };
  const flood = stringValue(values, 'synflood');
  const seed = stringValue(values, 'seed');
  return {
    total: time('for', 30 * SECOND),
    every: time('every', 5 * SECOND),
    flood: flood === undefined ? 0 : numberValue('synflood', flood, 0, BOUNDS.trafficRate),
    seed: seed === undefined ? 1 : intValue('seed', seed, 0, 2 ** 31),
  };
}

/** Summaries one run may print (--for / --every). */
const MAX_SUMMARY_LINES = 100_000;

export async function run(args: string[]): Promise<number> {
  let o: DemoArgs;
  try {
    o = parseDemoArgs(args);
    if (!(o.every > 0)) throw new UsageError('--every must be more than 0');
    if (o.total > BOUNDS.runMs) throw new UsageError(`--for: over the limit of ${BOUNDS.runMs / 86_400_000} days (see docs/bounds.md)`);
    if (o.total / o.every > MAX_SUMMARY_LINES) throw new UsageError(`--for / --every would print ${Math.ceil(o.total / o.every)} summaries (at most ${MAX_SUMMARY_LINES})`);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`lvsdeck demo: ${err.message}\n`);
    return 2;
  }
  const {total, every, flood} = o;
  const sim = buildDemo(o.seed);
  if (flood > 0) sim.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: flood});
  const e = sim.engine;
  const progress = progressLine(process.stderr, total, {describe: (t) => `t=${secs(t)} of ${secs(total)}`});
  for (let t = every; t <= total; t += every) {
    // in steps of at most a virtual second, so that the progress line moves on long periods
    for (let u = Math.min(t, e.now + SECOND); progress && u < t; u = Math.min(t, u + SECOND)) {
      sim.runUntil(u);
      progress.update(u);
    }
    sim.runUntil(t);
    progress?.update(t);
    const s = e.snapshot();
    const defense = Object.entries(s.defense).map(([k, d]) => `${k}=${d.mode}${d.active ? '*' : ''}`).join(' ');
    progress?.clear();
    process.stdout.write(
      `t=${(t / SECOND).toFixed(0).padStart(4)}s conns=${String(s.conns).padStart(6)} tpl=${s.templates} ` +
      `cps=${s.rates.cps} inpps=${s.rates.inpps} avail=${s.memory.availablePages}p/${s.memory.amemthresh} ${defense}\n`);
  }
  progress?.clear();
  const s = e.snapshot();
  for (const svc of s.services) {
    process.stdout.write(`${svc.label} ${svc.scheduler}: conns ${svc.stats.conns}\n`);
    for (const d of svc.dests) {
      process.stdout.write(`  -> ${d.label.padEnd(18)} ${d.fwd.padEnd(6)} w=${d.weight} active=${d.activeConns} inactive=${d.inactConns}\n`);
    }
  }
  return 0;
}
