// Scenario files: the examples/ scenarios mutated as text (YAML syntax, indentation, odd
// characters) and as a tree (any value replaced by a value of another type: numbers where text is
// expected, lists, maps, null, .inf, huge rates and repeats). parseScenario reports every problem
// as a ScenarioError with file:line:col; anything else is a crash.
import {readFileSync, readdirSync} from 'node:fs';
import {parse, stringify} from 'yaml';
import {parseScenario} from '../../../src/scenario/load.js';
import {ScenarioError} from '../../../src/scenario/types.js';
import {type Rng, chance, mutateJson, mutateText, pick} from '../mutate.js';

const DIR = new URL('../../../examples/', import.meta.url);
const EXAMPLES = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort().map((f) => readFileSync(new URL(f, DIR), 'utf8'));
const TREES = EXAMPLES.map((t) => parse(t) as unknown);
const TOKENS = [': ', '- ', '\n  ', '\n', '[', ']', '{', '}', '&a ', '*a', '!!str ', '.inf', '~', 'null', '1e9', '"', '#',
  'to: 80', 'from: [1]', 'rate: 1e9', 'repeat: 3000', 'len: 1e9', 'every: 1ms', 'until: 1e9s', '<<: *a'];

export default {
  name: 'scenario',
  expectedErrors: [ScenarioError],
  run(rng: Rng): void {
    const k = Math.floor(rng() * EXAMPLES.length);
    const text = chance(rng, 0.5)
      ? mutateText(rng, EXAMPLES[k]!, TOKENS, 6)
      : stringify(mutateJson(rng, TREES[k]));
    parseScenario(chance(rng, 0.1) ? `${pick(rng, ['%YAML 1.2\n---\n', '--- !!map\n', ''])}${text}` : text, 'fuzz.yaml');
  },
};
