// The one adapter between blessed-contrib and Ink (docs/tui-stack.md, "Charts") and the only
// module that touches the chart libraries. blessed-contrib can only draw into a blessed screen;
// no public call returns a drawing as text. So this borrows the line and gauge widgets'
// prototypes (the constructors the package exports as contrib.line and contrib.gauge, loaded
// without the rest of the package) without creating a screen (no terminal grab, no process-wide
// handlers), backs each with its own drawille / ansi-term canvas, calls the widget's own
// setData(), and returns the canvas frame as lines of ANSI text for an Ink <Text>. It relies on
// blessed-contrib 4.11.0 internals (options, calcSize, canvasSize, ctx):
// test/ui-charts-contract.test.ts fails if the installed library no longer has them or draws
// differently.
import {createRequire} from 'node:module';

const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-explicit-any */
/** Module paths of the widgets (the contract test checks they are the package's public exports). */
export const WIDGET_MODULES = {line: 'blessed-contrib/lib/widget/charts/line.js', gauge: 'blessed-contrib/lib/widget/gauge.js'} as const;
const LineW = require(WIDGET_MODULES.line);
const GaugeW = require(WIDGET_MODULES.gauge);
const {Canvas: InnerCanvas} = require('drawille-canvas-blessed-contrib');
const AnsiTerm = require('ansi-term');
const sparklineFn: (data: number[]) => string = require('sparkline');

export type ChartColor = string | number | [number, number, number];
export interface LineSeries {
  title?: string;
  y: number[];
  color?: ChartColor;
}

/** A widget object with the widget's prototype but without the blessed constructor. */
function makeWidget(W: any, cols: number, rows: number, options: any, canvasType?: any): any {
  const w = Object.create(W.prototype);
  w.options = options;
  Object.defineProperty(w, 'width', {value: cols});
  Object.defineProperty(w, 'height', {value: rows});
  w.calcSize();
  w._canvas = new InnerCanvas(w.canvasSize.width, w.canvasSize.height, canvasType);
  w.ctx = w._canvas.getContext();
  return w;
}

const frameLines = (w: any): string[] => (w.ctx._canvas.frame() as string).split('\n').slice(0, -1);

/**
 * A line chart drawn in exactly `width` x `height` terminal cells (y labels included).
 * blessed-contrib draws a cols x rows widget into (cols-6) x (rows-2) cells, hence the margins.
 */
export function renderLineChart(series: LineSeries[], width: number, height: number,
  opts: {maxY?: number; mono?: boolean; labels?: string[]} = {}): string[] {
  const cols = Math.max(14, width + 6) & ~1;
  // (rows-2) cell rows come out, the last two reserved for x labels (we pass none): cut them.
  const rows = Math.max(5, height + 4);
  const n = Math.max(1, ...series.map((s) => s.y.length));
  const x = opts.labels ?? Array.from({length: n}, () => ' ');
  // blessed-contrib divides by max(y) and draws nothing when every y is 0: give it a floor.
  let maxY = opts.maxY ?? 0;
  if (!opts.maxY) for (const s of series) for (const v of s.y) if (v > maxY) maxY = v;
  maxY = maxY <= 0 ? 1 : niceCeil(maxY * 1.1);
  const w = makeWidget(LineW, cols, rows, {
    showNthLabel: 1, xLabelPadding: 3, xPadding: 4, numYLabels: Math.max(2, Math.min(5, height - 1)), legend: {},
    wholeNumbersOnly: true, minY: 0, maxY, abbreviate: false, showLegend: false,
    style: {line: 'yellow', text: opts.mono ? 'white' : 'cyan', baseline: 'white'},
  });
  w.setData(series.map((s) => ({
    title: s.title ?? '', x: x.length === s.y.length ? x : Array.from({length: s.y.length}, () => ' '),
    y: s.y.length ? s.y : [0], style: {line: s.color ?? 'yellow'},
  })));
  return finish(frameLines(w), width, height, opts.mono);
}

/**
 * A stacked horizontal gauge (blessed-contrib gauge, stack mode): segments are fractions 0..1 of
 * the whole. Returns the 2-cell-high bar.
 */
export function renderStackGauge(segments: {fraction: number; color: ChartColor}[], width: number,
  opts: {mono?: boolean} = {}): string[] {
  const w = makeWidget(GaugeW, Math.max(8, width + 2), 5, {stroke: 'magenta', fill: 'white', showLabel: false}, AnsiTerm);
  // Fractions are passed <= 1 (the widget multiplies values < 1.001 by 100).
  w.setData(segments.map((s) => ({percent: Math.max(0, Math.min(1, s.fraction)), stroke: s.color})));
  return finish(frameLines(w).slice(2, 4), width, 2, opts.mono, opts.mono ? monoBar(segments, width) : undefined);
}

/** A one-line sparkline of the last `width` points (▁▂▃▅▆▇). */
export function renderSparkline(data: readonly number[], width: number): string {
  if (width <= 0) return '';
  const tail = data.slice(-width);
  if (tail.length === 0) return ' '.repeat(width);
  const max = Math.max(...tail);
  // the sparkline module scales min..max; an all-equal series would come out as mid-height bars.
  let s: string;
  if (max === 0) s = '▁'.repeat(tail.length);
  else if (Math.min(...tail) === max) s = '▄'.repeat(tail.length);
  else s = sparklineFn(tail);
  return s.padStart(width, ' ');
}

/** A text bar (no canvas): the header's mini memory bar. */
export function textBar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return '█'.repeat(full) + '░'.repeat(Math.max(0, width - full));
}

function monoBar(segments: {fraction: number}[], width: number): string[] {
  const glyphs = ['▓', '▒', '░', ' ', '·'];
  let line = '';
  for (let i = 0; i < segments.length; i++) line += glyphs[i % glyphs.length]!.repeat(Math.round(segments[i]!.fraction * width));
  line = line.slice(0, width).padEnd(width, ' ');
  return [line, line];
}

function finish(lines: string[], width: number, height: number, mono?: boolean, replacement?: string[]): string[] {
  let out = replacement ?? lines.map(compactAnsi);
  if (mono) out = out.map(stripAnsi);
  out = out.slice(0, height);
  while (out.length < height) out.push('');
  return out.map((l) => fitAnsi(l, width));
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const ANSI_RE = /\x1b\[[\d;]*m/g;
export const stripAnsi = (s: string): string => s.replace(ANSI_RE, '');

/** Pad or cut a line to `width` visible cells, keeping its escapes (one cell per code point). */
export function fitAnsi(line: string, width: number): string {
  let out = '', vis = 0;
  // most lines (every chart line) already fit: then the line is kept whole, without a walk per character
  const plain = stripAnsi(line);
  const cells = /[\ud800-\udfff]/.test(plain) ? [...plain].length : plain.length;
  if (cells <= width && !/\x1b(?!\[[\d;]*m)/.test(line)) {
    out = line;
    vis = cells;
  } else {
    const re = /\x1b\[[\d;]*m|[^\x1b]/gu;
    let m: RegExpExecArray | null;
    while ((m = re.exec(line))) {
      if (m[0].length > 1 && m[0].charCodeAt(0) === 0x1b) { out += m[0]; continue; }
      if (vis >= width) continue;
      out += m[0];
      vis++;
    }
  }
  const reset = /\x1b\[/.test(out) && !out.endsWith('\x1b[39;49m') ? '\x1b[39;49m' : '';
  return out + reset + ' '.repeat(Math.max(0, width - vis));
}

/** drawille/ansi-term wrap every cell in its own SGR pair; merge runs (~3x fewer bytes for Ink). */
export function compactAnsi(line: string): string {
  let out = '', wantFg = '39', wantBg = '49', curFg = '39', curBg = '49';
  const re = /\x1b\[([\d;]*)m|([^\x1b]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) {
    if (m[1] !== undefined) {
      for (const code of m[1] === '' ? ['0'] : m[1].split(/;(?=[34]\d(?:;|$)|0$)/)) {
        if (code === '0') { wantFg = '39'; wantBg = '49'; }
        else if (code.startsWith('3')) wantFg = code;
        else if (code.startsWith('4')) wantBg = code;
      }
      continue;
    }
    for (const ch of m[2]!) {
      const codes: string[] = [];
      if (ch !== ' ' && wantFg !== curFg) codes.push((curFg = wantFg));
      if (wantBg !== curBg) codes.push((curBg = wantBg));
      out += (codes.length ? `\x1b[${codes.join(';')}m` : '') + ch;
    }
  }
  if (curFg !== '39' || curBg !== '49') out += '\x1b[39;49m';
  return out;
}
