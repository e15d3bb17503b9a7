// Services: each virtual service with its real servers (forwarding, weight, active/inactive and
// persistent connections, estimator rates) and a per-server sparkline of new connections/s.
import {Box, Text} from 'ink';
import {cell, FWD_LABEL, num} from '../../src/ui/format.js';
import {renderSparkline} from '../../src/ui/charts.js';
import {useSession, useTheme, useUi} from '../context.js';

interface Col { title: string; w: number; right?: boolean; minWidth: number }

export function Services({width, height}: {width: number; height: number}) {
  const t = useTheme();
  const session = useSession();
  const v = useUi((s) => ({services: s.snap?.services ?? [], sel: s.svc.sel, dest: s.hist.dest, failed: s.traffic.failed}));
  const rows = session.serviceRows();
  const nDest = v.services.reduce((a, s) => a + s.dests.length, 0);
  const wide = width >= 110;
  const cols: Col[] = [
    {title: 'Virtual service / Real server', w: wide ? 30 : 24, minWidth: 0},
    {title: 'Sched/Fwd', w: 9, minWidth: 0},
    {title: 'Weight', w: 7, right: true, minWidth: 0},
    {title: 'Active', w: 7, right: true, minWidth: 0},
    {title: 'InAct', w: 7, right: true, minWidth: 0},
    {title: 'Persist', w: 7, right: true, minWidth: 96},
    {title: 'Conns', w: 8, right: true, minWidth: 110},
    {title: 'CPS', w: 6, right: true, minWidth: 0},
    {title: 'InPPS', w: 7, right: true, minWidth: 86},
    {title: 'OutPPS', w: 7, right: true, minWidth: 120},
  ].filter((c) => width >= c.minWidth);
  const used = cols.reduce((a, c) => a + c.w + 1, 2);
  const sparkW = Math.max(0, width - used - 1);
  const line = (cells: string[]) => cols.map((c, i) => cell(cells[i] ?? '', c.w, c.right ? 'right' : 'left')).join(' ');
  const page = Math.max(1, height - 2);
  const top = Math.max(0, Math.min(v.sel - Math.floor(page / 2), rows.length - page));
  const visible = rows.slice(top, top + page);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end" bold>
        {`Services: ${v.services.length} virtual, ${nDest} real servers`}
        <Text dimColor bold={false}>{'   rates: kernel estimator (2 s samples, ~8 s average); sparkline: new conns per virtual second'}</Text>
      </Text>
      <Text wrap="truncate-end" bold dimColor>{'  ' + line(cols.map((c) => c.title)) + (sparkW > 4 ? ' conns/s' : '')}</Text>
      {v.services.length === 0 ? <Text dimColor>no virtual services: N adds one, or : -A -t VIP:PORT -s wlc</Text> : null}
      {visible.map((r, k) => {
        const idx = top + k;
        const svc = v.services[r.svcIndex]!;
        const selected = idx === v.sel;
        if (r.kind === 'service') {
          const sum = (f: (d: (typeof svc.dests)[number]) => number) => num(svc.dests.reduce((a, d) => a + f(d), 0));
          const byTitle: Record<string, string> = {
            'Virtual service / Real server': svc.label, 'Sched/Fwd': svc.scheduler + (svc.persistent ? ' pers' : ''),
            Weight: '', Active: sum((d) => d.activeConns), InAct: sum((d) => d.inactConns), Persist: sum((d) => d.persistConns),
            Conns: num(svc.stats.conns, true), CPS: num(svc.rates.cps, true), InPPS: num(svc.rates.inpps, true),
            OutPPS: num(svc.rates.outpps, true),
          };
          return (
            <Text key={`s${svc.id}`} wrap="truncate-end" inverse={selected} bold color={t.c('cyan')}>
              {(selected ? '▸ ' : '  ') + line(cols.map((c) => byTitle[c.title] ?? ''))}
            </Text>
          );
        }
        const d = svc.dests.find((x) => x.id === r.destId)!;
        const down = v.failed.includes(d.label);
        const byTitle: Record<string, string> = {
          'Virtual service / Real server': `  -> ${d.label}`, 'Sched/Fwd': FWD_LABEL[d.fwd] ?? d.fwd,
          Weight: d.weight === 0 ? '0 Q' : String(d.weight), Active: num(d.activeConns), InAct: num(d.inactConns),
          Persist: num(d.persistConns), Conns: num(d.stats.conns, true), CPS: num(d.rates.cps, true),
          InPPS: num(d.rates.inpps, true), OutPPS: num(d.rates.outpps, true),
        };
        const flags = [down ? 'DOWN' : '', d.overloaded ? 'OVERLOAD' : ''].filter(Boolean).join(' ');
        return (
          <Text key={`d${d.id}`} wrap="truncate-end" inverse={selected} color={t.c(down ? 'red' : d.weight === 0 ? 'yellow' : undefined)}>
            {(selected ? '▸ ' : '  ') + line(cols.map((c) => byTitle[c.title] ?? ''))}
            {sparkW > 4 ? <Text color={t.c(selected ? undefined : 'magenta')}>{' ' + renderSparkline(v.dest[d.id] ?? [], Math.max(0, sparkW - (flags ? flags.length + 1 : 0)))}</Text> : null}
            {flags ? ' ' + flags : ''}
          </Text>
        );
      })}
    </Box>
  );
}
