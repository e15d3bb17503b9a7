// The benchmark report's rules (bench/report.ts): a ratio only against a figure measured in the
// same run, in a compatible unit; targets evaluated and marked; and notes without figures of their own.
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {renderReport, ReportError, resolveFigures} from '../bench/report.js';

describe('benchmark report', () => {
  it('divides by the named baseline of the same run and marks each target met or missed', () => {
    const sections = [
      {title: 'A', figures: [{id: 'base', figure: 'bare loop (baseline)', value: 200, unit: 'ops/s'}]},
      {title: 'B', figures: [
        {figure: 'engine', value: 50, unit: 'pkts/s', baseline: 'base', target: {of: 'ratio' as const, op: '>=' as const, limit: 0.5}},
        {figure: 'query', value: 7, unit: 'ms', target: {of: 'value' as const, op: '<' as const, limit: 8, why: 'a frame'}},
      ]},
    ];
    const [a, b] = resolveFigures(sections);
    expect(a![0]!.ratio).toBeUndefined();
    expect(b![0]).toMatchObject({ratio: 0.25, met: false});
    expect(b![1]).toMatchObject({met: true});
    const md = renderReport(sections, ['# T'], 'notes');
    expect(md).toContain('Targets: 1 of 2 met; missed: engine.');
    expect(md).toContain('| engine | 50.0 |  |  | pkts/s | bare loop (baseline): 200 | 0.25 | ratio >= 0.50 | **missed** |');
    expect(md).toContain('| query | 7.00 |  |  | ms |  |  | value < 8.00 ms (a frame) | met |');
  });

  it('refuses a baseline that was not measured, one in another unit, and a ratio target without a baseline', () => {
    const f = (extra: object) => [{title: 'S', figures: [{id: 'b', figure: 'b', value: 1, unit: 'ms'}, {figure: 'x', value: 2, unit: 'ms', ...extra}]}];
    expect(() => resolveFigures(f({baseline: 'nope'}))).toThrow(ReportError);
    expect(() => resolveFigures([{title: 'S', figures: [{id: 'b', figure: 'b', value: 1, unit: 'MiB'}, {figure: 'x', value: 2, unit: 'ms', baseline: 'b'}]}]))
      .toThrow(/differ in unit/);
    expect(() => resolveFigures(f({target: {of: 'ratio', op: '<', limit: 1}}))).toThrow(/needs a baseline/);
  });

  it('bench/notes.md carries no figures of its own (they would drift from the tables)', () => {
    const notes = readFileSync(join(import.meta.dirname, '../bench/notes.md'), 'utf8');
    // digits are allowed only inside names: a terminal size such as 140x45, Int32Array, `node -e 0`
    const stray = notes.replace(/\b\d+x\d+\b|Int32Array|node -e 0/g, '').match(/.{0,20}\d.{0,20}/g);
    expect(stray).toBeNull();
  });
});
