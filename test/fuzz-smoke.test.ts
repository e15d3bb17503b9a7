// A bounded run of every fuzz target in bench/fuzz/targets/ (the full runs, a million cases each,
// are `npm run fuzz`): no crash (an exception other than the parser's documented error class),
// no case slower than the limit, and the heap after the run within a bound of the heap after its
// first tenth (a case that leaves something behind adds up). A failure names the command that
// replays the case.
import v8 from 'node:v8';
import {runInNewContext} from 'node:vm';
import {describe, expect, it} from 'vitest';
import {loadTarget, replayHint, smokeRun, targetFiles} from '../bench/fuzz/harness.js';

const CASES = Number(process.env.LVSDECK_FUZZ_SMOKE_CASES ?? 2000);
const SEED = Number(process.env.LVSDECK_FUZZ_SEED ?? 20261205);
/** Heap growth allowed between the first tenth of the cases and the end, both after a full collection. */
const MAX_HEAP_GROWTH_MIB = 32;

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMiB = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

describe('fuzz smoke: malformed input never crashes or hangs a parser', () => {
  for (const file of targetFiles()) {
    it(`${file}: seeded cases, no crash, no hang, heap bounded`, async () => {
      const target = await loadTarget(file);
      const cases = target.smokeCases && process.env.LVSDECK_FUZZ_SMOKE_CASES === undefined ? Math.min(CASES, target.smokeCases) : CASES;
      const warm = Math.ceil(cases / 10);
      const caseLimitMs = Math.max(2_000, target.caseLimitMs ?? 0);
      const first = await smokeRun(target, {seed: SEED, cases: warm, caseLimitMs});
      const heapWarm = heapMiB();
      const rest = first.failures.length ? first : await smokeRun(target, {seed: SEED, from: warm, cases, caseLimitMs});
      const detail = rest.failures.map((f) => `${f.kind} at case ${f.caseIndex}: ${f.message}\n${f.stack ?? ''}\nreplay: ${replayHint(f)}`);
      expect(detail).toEqual([]);
      expect(heapMiB() - heapWarm).toBeLessThan(MAX_HEAP_GROWTH_MIB);
    }, 300_000);
  }
});
