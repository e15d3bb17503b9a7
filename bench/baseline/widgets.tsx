// BASELINE copy of the pre-change component, used only by bench/ui.tsx (see bench/baseline/App.tsx).
// Chart widgets: blessed-contrib drawings (src/ui/charts.ts) shown as Ink text, memoised so a
// frame only redraws a chart whose data or size changed.
import {useMemo} from 'react';
import {Text} from 'ink';
import {type ChartColor, renderLineChart, renderSparkline, renderStackGauge} from '../../src/ui/charts.js';
import {cell} from '../../src/ui/format.js';

export function LineChart({series, width, height, mono}: {
  series: {title: string; y: number[]; color: ChartColor}[]; width: number; height: number; mono: boolean;
}) {
  const text = useMemo(
    () => renderLineChart(series.map((s) => ({y: s.y.slice(-Math.max(2, width - 8)), color: s.color})), width, height, {mono}).join('\n'),
    [series, width, height, mono],
  );
  return <Text wrap="truncate-end">{text}</Text>;
}

export function StackGauge({segments, width, mono}: {
  segments: {fraction: number; color: ChartColor}[]; width: number; mono: boolean;
}) {
  const key = segments.map((s) => `${Math.round(s.fraction * 1000)}:${s.color}`).join('|');
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const text = useMemo(() => renderStackGauge(segments, width, {mono}).join('\n'), [key, width, mono]);
  return <Text wrap="truncate-end">{text}</Text>;
}

export function Spark({data, width, color, label, value, labelWidth}: {
  data: number[]; width: number; color?: string; label: string; value: string; labelWidth?: number;
}) {
  const lw = labelWidth ?? Math.min(16, Math.max(10, Math.floor(width / 4)));
  const vw = 9;
  const sw = Math.max(4, width - lw - vw - 2);
  return (
    <Text wrap="truncate-end">
      {cell(label, lw)} <Text color={color}>{renderSparkline(data, sw)}</Text> {cell(value, vw, 'right')}
    </Text>
  );
}
