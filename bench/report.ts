// BENCHMARKS.md from the figures of one run. Every ratio is a figure divided by another figure of
// the same run (its `baseline` id, same unit); every target is checked and marked met or missed.
// A baseline that is missing or in another unit is an error, not a silent constant.
import {type BenchFigure, type BenchTarget, meets} from './common.js';

export interface BenchSection {
  title: string;
  figures: BenchFigure[];
}

export class ReportError extends Error {}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

function targetText(t: BenchTarget, unit: string): string {
  const limit = t.of === 'value' ? `${fmt(t.limit)} ${unit}` : fmt(t.limit);
  return `${t.of} ${t.op} ${limit}${t.why ? ` (${t.why})` : ''}`;
}

/** Rates compare with rates (pkts/s with ops/s: both per second), everything else needs the same unit. */
function dimension(unit: string): string {
  const slash = unit.indexOf('/');
  return slash < 0 ? unit : unit.slice(slash);
}

export interface ResolvedFigure extends BenchFigure {
  baselineFigure?: BenchFigure;
  ratio?: number;
  met?: boolean;
}

/** Resolve every baseline id across all sections and evaluate every target. */
export function resolveFigures(sections: readonly BenchSection[]): ResolvedFigure[][] {
  const byId = new Map<string, BenchFigure>();
  for (const s of sections) {
    for (const f of s.figures) {
      if (f.id === undefined) continue;
      if (byId.has(f.id)) throw new ReportError(`two figures with id '${f.id}'`);
      byId.set(f.id, f);
    }
  }
  return sections.map((s) => s.figures.map((f): ResolvedFigure => {
    const r: ResolvedFigure = {...f};
    if (f.baseline !== undefined) {
      const b = byId.get(f.baseline);
      if (!b) throw new ReportError(`'${f.figure}': baseline '${f.baseline}' was not measured in this run`);
      if (b === f) throw new ReportError(`'${f.figure}' is its own baseline`);
      if (dimension(b.unit) !== dimension(f.unit)) throw new ReportError(`'${f.figure}' (${f.unit}) and its baseline '${b.figure}' (${b.unit}) differ in unit`);
      r.baselineFigure = b;
      r.ratio = f.value / b.value;
    }
    if (f.target) {
      if (f.target.of === 'ratio' && r.ratio === undefined) throw new ReportError(`'${f.figure}': a ratio target needs a baseline`);
      r.met = meets(f.target, f.target.of === 'ratio' ? r.ratio! : f.value);
    }
    return r;
  }));
}

export function renderReport(sections: readonly BenchSection[], header: string[], notes: string): string {
  const resolved = resolveFigures(sections);
  const all = resolved.flat();
  const withTarget = all.filter((f) => f.target);
  const missed = withTarget.filter((f) => !f.met);
  const lines = [...header, '',
    `Targets: ${withTarget.length - missed.length} of ${withTarget.length} met` +
      (missed.length ? `; missed: ${missed.map((f) => f.figure).join('; ')}.` : '.'), ''];
  sections.forEach((s, i) => {
    lines.push(`## ${s.title}`, '',
      '| figure | value (median) | min | max | unit | baseline (measured in this run) | ratio | target | met? |',
      '|---|---|---|---|---|---|---|---|---|');
    for (const f of resolved[i]!) {
      const base = f.baselineFigure ? `${f.baselineFigure.figure}: ${fmt(f.baselineFigure.value)}` : '';
      lines.push(`| ${f.figure} | ${fmt(f.value)} | ${f.min !== undefined ? fmt(f.min) : ''} | ${f.max !== undefined ? fmt(f.max) : ''} | ` +
        `${f.unit} | ${base} | ${f.ratio !== undefined ? f.ratio.toFixed(f.ratio < 0.1 ? 3 : 2) : ''} | ` +
        `${f.target ? targetText(f.target, f.unit) : ''} | ${f.met === undefined ? '' : f.met ? 'met' : '**missed**'} |`);
    }
    lines.push('');
  });
  lines.push(notes.trimEnd(), '');
  return lines.join('\n');
}
