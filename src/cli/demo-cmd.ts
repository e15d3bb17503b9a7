// `lvsdeck demo`: run the embedded demo headless and print a summary every virtual few seconds.
import {buildDemo} from '../demo/default-config.js';
import {SECOND} from '../engine/constants.js';
import {parseTime as parseDuration} from '../scenario/units.js';

export const usage = 'run the embedded demo headless: [--for 30s] [--every 5s] [--synflood RATE]';

export async function run(args: string[]): Promise<number> {
  let total = 30 * SECOND, every = 5 * SECOND, flood = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const val = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    try {
      if (a === '--for') total = parseDuration(val());
      else if (a === '--every') every = parseDuration(val());
      else if (a === '--synflood') flood = Number(val());
      else throw new Error(`unknown option ${a}`);
    } catch (err) {
      process.stderr.write(`lvsdeck demo: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const sim = buildDemo();
  if (flood > 0) sim.addTraffic({kind: 'synflood', to: '10.0.0.1:80', rate: flood});
  const e = sim.engine;
  for (let t = every; t <= total; t += every) {
    sim.runUntil(t);
    const s = e.snapshot();
    const defense = Object.entries(s.defense).map(([k, d]) => `${k}=${d.mode}${d.active ? '*' : ''}`).join(' ');
    process.stdout.write(
      `t=${(t / SECOND).toFixed(0).padStart(4)}s conns=${String(s.conns).padStart(6)} tpl=${s.templates} ` +
      `cps=${s.rates.cps} inpps=${s.rates.inpps} avail=${s.memory.availablePages}p/${s.memory.amemthresh} ${defense}\n`);
  }
  const s = e.snapshot();
  for (const svc of s.services) {
    process.stdout.write(`${svc.label} ${svc.scheduler}: conns ${svc.stats.conns}\n`);
    for (const d of svc.dests) {
      process.stdout.write(`  -> ${d.label.padEnd(18)} ${d.fwd.padEnd(6)} w=${d.weight} active=${d.activeConns} inactive=${d.inactConns}\n`);
    }
  }
  return 0;
}
