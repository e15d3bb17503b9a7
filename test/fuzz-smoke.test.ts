// A bounded run of every fuzz target in bench/fuzz/targets/ (the full runs, a million cases each,
// are `npm run fuzz`): no crash (an exception other than the parser's documented error class),
// no case slower than the limit. A failure names the command that replays the case.
import {describe, expect, it} from 'vitest';
import {loadTarget, replayHint, smokeRun, targetFiles} from '../bench/fuzz/harness.js';

const CASES = Number(process.env.LVSDECK_FUZZ_SMOKE_CASES ?? 2000);
const SEED = Number(process.env.LVSDECK_FUZZ_SEED ?? 20261205);

describe('fuzz smoke: malformed input never crashes or hangs a parser', () => {
  for (const file of targetFiles()) {
    it(`${file}: ${CASES} seeded cases, no crash, none over 2 s`, async () => {
      const target = await loadTarget(file);
      const {failures} = await smokeRun(target, {seed: SEED, cases: CASES, caseLimitMs: 2_000});
      const detail = failures.map((f) => `${f.kind} at case ${f.caseIndex}: ${f.message}\n${f.stack ?? ''}\nreplay: ${replayHint(f)}`);
      expect(detail).toEqual([]);
    }, 120_000);
  }
});
