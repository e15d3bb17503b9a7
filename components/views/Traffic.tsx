// Attacks/Traffic: every generator with its target, rate, state and counters; start/stop and
// re-rate by key. The `a` menu starts the floods.
import {Box, Text} from 'ink';
import {cell, num} from '../../src/ui/format.js';
import {useTheme, useUi} from '../context.js';

export function Traffic({width, height}: {width: number; height: number}) {
  const t = useTheme();
  const v = useUi((s) => ({rows: s.traffic.rows, sel: s.traffic.sel, failed: s.traffic.failed}));
  const page = Math.max(1, height - 4);
  const top = Math.max(0, Math.min(v.sel - Math.floor(page / 2), v.rows.length - page));
  const head = cell('Generator', 16) + cell('Kind', 10) + cell('Target', 18) + cell('Rate/s', 9, 'right') + ' ' + cell('State', 8) +
    cell('Sessions', 10, 'right') + cell('PktsIn', 10, 'right') + cell('Forward', 10, 'right') + cell('Dropped', 10, 'right') + cell('InFlight', 9, 'right');
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end"><Text bold>Attacks/Traffic</Text>{`  ${v.rows.length} generators, ${v.rows.filter((g) => g.running).length} running   (a: attack menu)`}</Text>
      <Text wrap="truncate-end" bold dimColor>{'  ' + head}</Text>
      {v.rows.slice(top, top + page).map((g, k) => {
        const selected = top + k === v.sel;
        const attack = g.kind !== 'clients';
        return (
          <Text key={g.id} wrap="truncate-end" inverse={selected} color={t.c(attack && g.running ? 'red' : g.running ? undefined : 'gray')}>
            {(selected ? '▸ ' : '  ') + cell(g.id, 16) + cell(g.kind, 10) + cell(g.to, 18) + cell(num(g.rate), 9, 'right') + ' ' +
              cell(g.running ? 'running' : 'stopped', 8) + cell(num(g.stats.sessions, true), 10, 'right') +
              cell(num(g.stats.packetsIn, true), 10, 'right') + cell(num(g.stats.forwarded, true), 10, 'right') +
              cell(num(g.stats.dropped, true), 10, 'right') + cell(num(g.inFlight, true), 9, 'right')}
          </Text>
        );
      })}
      {v.rows.length === 0 ? <Text dimColor>no traffic: n adds a generator, a opens the attack menu</Text> : null}
      <Box flexGrow={1} />
      <Text wrap="truncate-end" dimColor>{v.failed.length ? `real servers not answering: ${v.failed.join(', ')}` : 'all real servers answer (x in Services makes one stop)'}</Text>
    </Box>
  );
}
