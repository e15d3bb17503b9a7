// BASELINE copy of the pre-change component, used only by bench/ui.tsx (see bench/baseline/App.tsx).
// Dashboard: memory gauge (available vs amemthresh), drop rates over time, conns/s and packets/s
// sparklines, the connection states mix and the defenses' details.
import {Box, Text} from 'ink';
import {useMemo} from 'react';
import {KERNEL_CONN_ENTRY_BYTES, PAGE_SIZE} from '../../src/engine/constants.js';
import {bytes, cell, num} from '../../src/ui/format.js';
import {defenseBadge} from '../../src/ui/theme.js';
import {useTheme, useUi} from '../../components/context.js';
import {LineChart, Spark, StackGauge} from './widgets.js';

const CAUSE_COLORS = ['magenta', 'cyan', 'green', 'blue', 'white'];

export function Dashboard({width, height}: {width: number; height: number}) {
  const t = useTheme();
  const d = useUi((s) => ({
    mem: s.snap?.memory, entries: s.snap ? s.snap.conns + s.snap.templates : 0, states: s.snap?.states,
    synRecv: s.snap?.synRecvShare ?? 0,
    defense: s.snap?.defense, hist: s.hist, rates: s.rates, counters: s.snap?.counters,
  }));
  const mem = d.mem ?? {availablePages: 0, amemthresh: 1024, totalPages: 1};
  const total = Math.max(1, mem.totalPages);
  const entryPages = (d.entries * KERNEL_CONN_ENTRY_BYTES) / PAGE_SIZE;
  const avail = mem.availablePages;
  const reserve = Math.min(avail, mem.amemthresh);
  const segments = [
    {fraction: Math.max(0, total - avail - entryPages) / total, color: 'white'},
    {fraction: Math.min(entryPages, total) / total, color: 'magenta'},
    {fraction: Math.max(0, avail - reserve) / total, color: 'green'},
    {fraction: reserve / total, color: avail < mem.amemthresh ? 'red' : 'yellow'},
  ];
  const series = useMemo(() => {
    const s = [
      {title: 'pkt drop: drop_packet', y: d.hist.dropDefense, color: 'red'},
      {title: 'pkt drop: other', y: d.hist.dropOther, color: 'yellow'},
    ];
    Object.entries(d.hist.dropEntry).forEach(([cause, y], i) =>
      s.push({title: `entry drop: ${cause}`, y, color: CAUSE_COLORS[i % CAUSE_COLORS.length]!}));
    return s;
  }, [d.hist]);
  const leftW = Math.max(30, Math.floor(width * 0.58));
  const rightW = width - leftW - 1;
  // The chart is capped: braille cells are the costliest text for Ink to lay out per frame.
  const chartH = Math.max(4, Math.min(14, height - 3 - 1 - 2));
  const tableRows = Math.max(0, height - 3 - 1 - chartH - 2 - 1);
  const counters = [
    ...Object.entries((d.counters?.dropped ?? {}) as Record<string, number>).map(([k, v]) => ({what: `packets dropped: ${k}`, n: v})),
    ...Object.entries((d.counters?.dropEntry ?? {}) as Record<string, number>).map(([k, v]) => ({what: `entries dropped by drop_entry: ${k}`, n: v})),
  ].filter((c) => c.n > 0).sort((a, b) => b.n - a.n);
  const legend = series.map((s) => `${t.mono ? '' : '■'}${s.title} ${num(s.y[s.y.length - 1] ?? 0, true)}/s`);
  const states = Object.entries(d.states ?? {}).sort((a, b) => b[1] - a[1]);
  const stTotal = states.reduce((a, [, n]) => a + n, 0) || 1;
  const stRows = Math.max(1, height - 3 - 9);
  const defs = d.defense;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end">
        <Text bold>Memory</Text>{`  available ${bytes(avail * PAGE_SIZE)} (${num(avail)} pages)  amemthresh ${num(mem.amemthresh)} pages (${bytes(mem.amemthresh * PAGE_SIZE)})  `}
        {avail < mem.amemthresh ? <Text color={t.c('red')} bold>BELOW THRESHOLD</Text> : <Text color={t.c('green')}>above threshold</Text>}
        {`  entries ${num(d.entries)} × ${KERNEL_CONN_ENTRY_BYTES} B`}
      </Text>
      <StackGauge segments={segments} width={width} mono={t.mono} />
      <Box flexDirection="row" height={height - 3}>
        <Box flexDirection="column" width={leftW} height={height - 3}>
          <Text bold wrap="truncate-end">Drops per virtual second</Text>
          <LineChart series={series} width={leftW} height={chartH} mono={t.mono} />
          <Box height={2}>
            <Text wrap="wrap">
              {series.map((s, i) => (
                <Text key={s.title} color={t.c(s.color)}>{legend[i]}{'  '}</Text>
              ))}
            </Text>
          </Box>
          {tableRows >= 2 ? <Text bold wrap="truncate-end">Drop counters since start</Text> : null}
          {tableRows >= 2 && counters.length === 0 ? <Text dimColor>nothing dropped</Text> : null}
          {tableRows >= 2 ? counters.slice(0, tableRows - 1).map((c) => (
            <Text key={c.what} wrap="truncate-end">{cell(c.what, Math.max(10, leftW - 12))}{cell(num(c.n), 11, 'right')}</Text>
          )) : null}
        </Box>
        <Box width={1} />
        <Box flexDirection="column" width={rightW} height={height - 3}>
          <Text bold wrap="truncate-end">Rates (per virtual second)</Text>
          <Spark label="conns/s" data={d.hist.cps} width={rightW} color={t.c('cyan')} value={num(d.rates.cps, true)} />
          <Spark label="pkt in/s" data={d.hist.inpps} width={rightW} color={t.c('green')} value={num(d.rates.inpps, true)} />
          <Spark label="pkt out/s" data={d.hist.outpps} width={rightW} color={t.c('blue')} value={num(d.rates.outpps, true)} />
          <Text bold wrap="truncate-end">Defenses</Text>
          {defs ? (
            <>
              <Text wrap="truncate-end">
                {cell('drop_entry', 12)}<Text color={t.c(defenseBadge(defs.drop_entry.mode).color)}>{cell(defenseBadge(defs.drop_entry.mode).word, 7)}</Text>
                {` dropped ${num(Object.values(d.counters?.dropEntry ?? {}).reduce((a: number, b) => a + (b as number), 0), true)}`}
              </Text>
              <Text wrap="truncate-end">
                {cell('drop_packet', 12)}<Text color={t.c(defenseBadge(defs.drop_packet.mode).color)}>{cell(defenseBadge(defs.drop_packet.mode).word, 7)}</Text>
                {` rate 1/${defs.drop_packet.rate || '-'} dropped ${num((d.counters?.dropped as Record<string, number> | undefined)?.['drop-packet-defense'] ?? 0, true)}`}
              </Text>
              <Text wrap="truncate-end">
                {cell('secure_tcp', 12)}<Text color={t.c(defenseBadge(defs.secure_tcp.mode).color)}>{cell(defenseBadge(defs.secure_tcp.mode).word, 7)}</Text>
                {` table ${defs.secure_tcp.active ? 'secure (dos)' : 'normal'}`}
              </Text>
            </>
          ) : null}
          <Text wrap="truncate-end"><Text bold>Connection states</Text>{`  ${Math.round(d.synRecv * 100)}% SYN_RECV`}</Text>
          {states.slice(0, stRows).map(([name, n]) => {
            const barW = Math.max(0, rightW - 30);
            const w = Math.round((n / stTotal) * barW);
            return (
              <Text key={name} wrap="truncate-end">
                {cell(name, 17)} {cell(num(n, true), 7, 'right')} <Text color={t.c(name === 'SYN_RECV' ? 'red' : name === 'ESTABLISHED' ? 'green' : 'cyan')}>{'▇'.repeat(w)}</Text>
              </Text>
            );
          })}
          {states.length === 0 ? <Text dimColor>no entries</Text> : null}
        </Box>
      </Box>
    </Box>
  );
}
