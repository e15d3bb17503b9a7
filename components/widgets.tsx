// Chart widgets: blessed-contrib drawings (src/ui/charts.ts) shown as Ink text, memoised so a
// frame only redraws a chart whose data or size changed.
import {useMemo} from 'react';
import {Box, Text, Transform} from 'ink';
import {type ChartColor, renderLineChart, renderSparkline, renderStackGauge, stripAnsi} from '../src/ui/charts.js';
import {cell, paint} from '../src/ui/format.js';

/**
 * Lines that are already painted (ANSI colours from charts.ts or paint()), shown at their exact
 * size. Ink measures every text node's width with string-width up to three times a frame (layout,
 * placement, output), and for anything but printable ASCII that walks Intl.Segmenter per
 * character: for braille charts, sparklines and bars it was the largest cost of a Dashboard frame
 * (docs/tui-stack.md, "Rendering cost"). So Ink lays out and places a blank block of the same size
 * (ASCII: measured by length) and Ink's own <Transform> paints each line in as the frame is
 * assembled; the screen is the same as a <Text> of these lines. Every character must take one
 * cell (ASCII, braille, block elements), so a line's width is its length without escapes. When a
 * line is wider than `width` (a narrow terminal), every line becomes its own <Text>, which Ink
 * truncates as it always did.
 */
export function PaintedLines({lines, width}: {lines: readonly string[]; width: number}) {
  const widths = lines.map((l) => stripAnsi(l).length);
  if (widths.some((w) => w > width)) return <>{lines.map((l, i) => <Text key={i} wrap="truncate-end">{l}</Text>)}</>;
  const blank = widths.map((w) => ' '.repeat(w)).join('\n');
  return <Transform transform={(_, i) => lines[i] ?? ''}>{blank}</Transform>;
}

export function LineChart({series, width, height, mono}: {
  series: {title: string; y: number[]; color: ChartColor}[]; width: number; height: number; mono: boolean;
}) {
  const lines = useMemo(
    () => renderLineChart(series.map((s) => ({y: s.y.slice(-Math.max(2, width - 8)), color: s.color})), width, height, {mono}),
    [series, width, height, mono],
  );
  return <PaintedLines lines={lines} width={width} />;
}

export function StackGauge({segments, width, mono}: {
  segments: {fraction: number; color: ChartColor}[]; width: number; mono: boolean;
}) {
  const key = segments.map((s) => `${Math.round(s.fraction * 1000)}:${s.color}`).join('|');
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const lines = useMemo(() => renderStackGauge(segments, width, {mono}), [key, width, mono]);
  return <PaintedLines lines={lines} width={width} />;
}

/** A sparkline row: label, the last points of `data` in `color`, and the current value. */
export function sparkLine({data, width, color, label, value, labelWidth}: {
  data: readonly number[]; width: number; color?: string; label: string; value: string; labelWidth?: number;
}): string {
  const lw = labelWidth ?? Math.min(16, Math.max(10, Math.floor(width / 4)));
  const vw = 9;
  const sw = Math.max(4, width - lw - vw - 2);
  return `${cell(label, lw)} ${paint(renderSparkline(data, sw), {color})} ${cell(value, vw, 'right')}`;
}

/** One column of a ColumnTable: its width and one pre-rendered, padded (and painted) cell per row. */
export interface TableColumn {
  width: number;
  cells: string[];
}

/**
 * A table drawn column by column: one <Text> per column whose lines are that column's cells.
 * Ink turns every distinct line into styled characters once per frame, so a column of repeated
 * values (protocol, virtual service, real server, state) costs one line, not one per row, and a
 * page of rows is a handful of nodes instead of one per row. Cells must be padded to the
 * column's width so that the rows line up and styles (a selected row's inverse) run unbroken.
 */
export function ColumnTable({columns, rows}: {columns: TableColumn[]; rows: number}) {
  return (
    <Box flexDirection="row" height={rows}>
      {columns.map((c, i) => (
        <Box key={i} width={c.width} flexShrink={0}>
          <Text wrap="truncate-end">{c.cells.join('\n')}</Text>
        </Box>
      ))}
    </Box>
  );
}
