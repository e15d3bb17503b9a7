// BASELINE copy of the pre-change component, used only by bench/ui.tsx and test/ui-dashboard-look.test.tsx:
// the Dashboard with its lower panels (memory over time, conns/s per service, top real servers) as
// it was before its charts and bars were pre-painted (components/widgets.tsx, PaintedLines), kept
// so the bench can time the same frame drawn both ways and the test can check they look the same.
import {Box, Text} from 'ink';
import {useMemo} from 'react';
import {KERNEL_CONN_ENTRY_BYTES, PAGE_SIZE} from '../../src/engine/constants.js';
import type {History} from '../../src/store/session.js';
import {bytes, cell, num} from '../../src/ui/format.js';
import {renderSparkline} from '../../src/ui/charts.js';
import {defenseBadge, type Theme} from '../../src/ui/theme.js';
import {useTheme, useUi} from '../../components/context.js';
import {planDashboard, topServers, type ServerRow} from '../../components/views/Dashboard.js';
import {LineChart, Spark, StackGauge} from './widgets.js';

const CAUSE_COLORS = ['magenta', 'cyan', 'green', 'blue', 'white'];

export function DashboardPanels({width, height}: {width: number; height: number}) {
  const t = useTheme();
  const d = useUi((s) => ({
    mem: s.snap?.memory, entries: s.snap ? s.snap.conns + s.snap.templates : 0, states: s.snap?.states,
    synRecv: s.snap?.synRecvShare ?? 0, services: s.snap?.services,
    defense: s.snap?.defense, hist: s.hist, rates: s.rates, counters: s.snap?.counters, failed: s.traffic.failed,
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
  const memSeries = useMemo(() => [
    {title: 'available', y: d.hist.availPages, color: 'green'},
    {title: 'amemthresh', y: d.hist.amemthresh, color: 'red'},
  ], [d.hist]);
  const services = d.services ?? [];
  const servers = topServers(services);
  const states = Object.entries(d.states ?? {}).sort((a, b) => b[1] - a[1]);
  const counters = [
    ...Object.entries((d.counters?.dropped ?? {}) as Record<string, number>).map(([k, v]) => ({what: `packets dropped: ${k}`, n: v})),
    ...Object.entries((d.counters?.dropEntry ?? {}) as Record<string, number>).map(([k, v]) => ({what: `entries dropped by drop_entry: ${k}`, n: v})),
  ].filter((c) => c.n > 0).sort((a, b) => b.n - a.n);
  const plan = planDashboard(height, {counters: counters.length, states: states.length, services: services.length, servers: servers.length});
  const leftW = Math.max(30, Math.floor(width * 0.58));
  const rightW = width - leftW - 1;
  const colH = height - 3;
  const legend = series.map((s) => `${t.mono ? '' : '■'}${s.title} ${num(s.y[s.y.length - 1] ?? 0, true)}/s`);
  const stTotal = states.reduce((a, [, n]) => a + n, 0) || 1;
  const defs = d.defense;
  const sparkLabelW = Math.min(22, Math.max(10, Math.floor(rightW / 3)));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end">
        <Text bold>Memory</Text>{`  available ${bytes(avail * PAGE_SIZE)} (${num(avail)} pages)  amemthresh ${num(mem.amemthresh)} pages (${bytes(mem.amemthresh * PAGE_SIZE)})  `}
        {avail < mem.amemthresh ? <Text color={t.c('red')} bold>BELOW THRESHOLD</Text> : <Text color={t.c('green')}>above threshold</Text>}
        {`  entries ${num(d.entries)} × ${KERNEL_CONN_ENTRY_BYTES} B`}
      </Text>
      <StackGauge segments={segments} width={width} mono={t.mono} />
      <Box flexDirection="row" height={colH}>
        <Box flexDirection="column" width={leftW} height={colH}>
          <Text bold wrap="truncate-end">Drops per virtual second</Text>
          <LineChart series={series} width={leftW} height={plan.dropChart} mono={t.mono} />
          <Box height={2}>
            <Text wrap="wrap">
              {series.map((s, i) => (
                <Text key={s.title} color={t.c(s.color)}>{legend[i]}{'  '}</Text>
              ))}
            </Text>
          </Box>
          {plan.memChart ? (
            <>
              <Text wrap="truncate-end">
                <Text bold>Memory over time</Text>
                <Text color={t.c('green')}>{`  ${t.mono ? '' : '■'}available ${num(avail)}`}</Text>
                <Text color={t.c('red')}>{`  ${t.mono ? '' : '■'}amemthresh ${num(mem.amemthresh)}`}</Text>
                {' pages'}
              </Text>
              <LineChart series={memSeries} width={leftW} height={plan.memChart} mono={t.mono} />
            </>
          ) : null}
          {plan.counters >= 2 ? <Text bold wrap="truncate-end">Drop counters since start</Text> : null}
          {plan.counters >= 2 && counters.length === 0 ? <Text dimColor>nothing dropped</Text> : null}
          {plan.counters >= 2 ? counters.slice(0, plan.counters - 1).map((c) => (
            <Text key={c.what} wrap="truncate-end">{cell(c.what, Math.max(10, leftW - 12))}{cell(num(c.n), 11, 'right')}</Text>
          )) : null}
        </Box>
        <Box width={1} />
        <Box flexDirection="column" width={rightW} height={colH}>
          <Text bold wrap="truncate-end">Rates (per virtual second)</Text>
          <Spark label="conns/s" data={d.hist.cps} width={rightW} color={t.c('cyan')} value={num(d.rates.cps, true)} labelWidth={sparkLabelW} />
          <Spark label="pkt in/s" data={d.hist.inpps} width={rightW} color={t.c('green')} value={num(d.rates.inpps, true)} labelWidth={sparkLabelW} />
          <Spark label="pkt out/s" data={d.hist.outpps} width={rightW} color={t.c('blue')} value={num(d.rates.outpps, true)} labelWidth={sparkLabelW} />
          {plan.services ? (
            <>
              <Text bold wrap="truncate-end">New connections/s per virtual service</Text>
              {services.slice(0, plan.services - 1).map((s) => {
                const h = d.hist.svc[s.id] ?? [];
                return <Spark key={s.id} label={s.label} data={h} width={rightW} color={t.c('cyan')} value={num(h[h.length - 1] ?? 0, true)} labelWidth={sparkLabelW} />;
              })}
            </>
          ) : null}
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
          {states.slice(0, plan.states - 1).map(([name, n]) => {
            const barW = Math.max(0, rightW - 30);
            const w = Math.round((n / stTotal) * barW);
            return (
              <Text key={name} wrap="truncate-end">
                {cell(name, 17)} {cell(num(n, true), 7, 'right')} <Text color={t.c(name === 'SYN_RECV' ? 'red' : name === 'ESTABLISHED' ? 'green' : 'cyan')}>{'▇'.repeat(w)}</Text>
              </Text>
            );
          })}
          {states.length === 0 ? <Text dimColor>no entries</Text> : null}
          {plan.servers ? <TopServers servers={servers.slice(0, plan.servers - 2)} hist={d.hist} failed={d.failed} width={rightW} t={t} /> : null}
        </Box>
      </Box>
    </Box>
  );
}

function TopServers({servers, hist, failed, width, t}: {
  servers: ServerRow[]; hist: History; failed: string[]; width: number; t: Theme;
}) {
  const labelW = Math.min(22, Math.max(14, width - 38));
  const sparkW = Math.max(0, width - labelW - 7 - 7 - 8 - 1);
  return (
    <>
      <Text wrap="truncate-end"><Text bold>Top real servers</Text>{'  by connections held'}</Text>
      <Text wrap="truncate-end" bold dimColor>{cell('Real server', labelW) + cell('Active', 7, 'right') + cell('InAct', 7, 'right') + cell('conn/s', 8, 'right')}</Text>
      {servers.map((d) => {
        const h = hist.dest[d.id] ?? [];
        const down = failed.includes(d.label);
        return (
          <Text key={d.id} wrap="truncate-end" color={t.c(down ? 'red' : d.weight === 0 ? 'yellow' : undefined)}>
            {cell(d.label + (down ? ' DOWN' : ''), labelW) + cell(num(d.activeConns, true), 7, 'right') + cell(num(d.inactConns, true), 7, 'right') +
              cell(num(h[h.length - 1] ?? 0, true), 8, 'right')}
            {sparkW >= 4 ? <Text color={t.c('magenta')}>{' ' + renderSparkline(h, sparkW)}</Text> : null}
          </Text>
        );
      })}
    </>
  );
}
