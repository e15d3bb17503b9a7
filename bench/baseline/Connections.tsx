// BASELINE copy of the pre-change component, used only by bench/ui.tsx (see bench/baseline/App.tsx).
// Connections: the live table (one engine query per frame for the visible window only), templates
// marked, filter, single-key sort, paging over a million entries.
import {Box, Text} from 'ink';
import {memo} from 'react';
import type {ConnInfo} from '../../src/store/backend.js';
import {addrPort, cell, mmss, num} from '../../src/ui/format.js';
import {useTheme, useUi} from '../../components/context.js';

const SORT_LETTER: Record<string, string> = {
  proto: 'P', client: 'C', virtual: 'V', real: 'R', state: 'S', expires: 'E', inpkts: 'I', outpkts: 'O',
};

interface Cols { virt: boolean; pkts: boolean; addrW: number }

function colsFor(width: number): Cols {
  const virt = width >= 100;
  const pkts = width >= 88;
  const fixed = 2 + 4 + 12 + 6 + (pkts ? 16 : 0) + (virt ? 3 : 2) * 1 + 6;
  const addrW = Math.max(15, Math.min(23, Math.floor((width - fixed) / (virt ? 3 : 2))));
  return {virt, pkts, addrW};
}

const Row = memo(function Row({c, selected, cols, mono}: {c: ConnInfo; selected: boolean; cols: Cols; mono: boolean}) {
  const virtual = c.fwmarkTemplate ? `FWM ${c.vaddr}` : addrPort(c.vaddr, c.vport);
  const text = (selected ? '▸' : c.template ? 'T' : ' ') + ' ' + cell(c.protoName, 4) + cell(addrPort(c.caddr, c.cport), cols.addrW) + ' ' +
    (cols.virt ? cell(virtual, cols.addrW) + ' ' : '') + cell(addrPort(c.daddr, c.dport), cols.addrW) + ' ' +
    cell(c.stateName, 12) + cell(mmss(c.expiresIn), 6, 'right') +
    (cols.pkts ? cell(num(c.inPkts, true), 8, 'right') + cell(num(c.outPkts, true), 8, 'right') : '');
  const color = mono ? undefined : c.template ? 'cyan' : c.stateName === 'SYN_RECV' ? 'red' : c.stateName === 'ESTABLISHED' ? 'green' : undefined;
  return <Text wrap="truncate-end" inverse={selected} color={color}>{text}</Text>;
});

export function Connections({width, height}: {width: number; height: number}) {
  const t = useTheme();
  const c = useUi((s) => s.conns);
  const cols = colsFor(width);
  const sortText = c.sort ? `sort ${c.sort} ${c.desc ? '↓' : '↑'}` : 'slot order';
  const tpl = c.templates === 'include' ? '' : c.templates === 'exclude' ? '  templates hidden' : '  templates only';
  const first = c.total ? c.offset + 1 : 0;
  const last = c.offset + c.rows.length;
  const arrow = (k: string) => (c.sort && SORT_LETTER[c.sort] === k ? (c.desc ? '↓' : '↑') : '');
  const header = '  ' + cell('Pro' + arrow('P'), 4) + cell('Client' + arrow('C'), cols.addrW) + ' ' +
    (cols.virt ? cell('Virtual' + arrow('V'), cols.addrW) + ' ' : '') + cell('Real server' + arrow('R'), cols.addrW) + ' ' +
    cell('State' + arrow('S'), 12) + cell('Expire' + arrow('E'), 6, 'right') +
    (cols.pkts ? cell('InPkt' + arrow('I'), 8, 'right') + cell('OutPkt' + arrow('O'), 8, 'right') : '');
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end">
        <Text bold>Connections {num(c.total)}</Text>
        {c.filter ? <Text color={t.c('yellow')}>{`  filter "${c.filter}"`}</Text> : null}
        {`${tpl}  ${sortText}  rows ${num(first)}-${num(last)}`}
        <Text dimColor>{`  query ${c.queryMs.toFixed(1)} ms`}</Text>
        {c.error ? <Text color={t.c('red')}>{`  ${c.error}`}</Text> : null}
      </Text>
      <Text wrap="truncate-end" bold dimColor>{header}</Text>
      {c.rows.length === 0 ? <Text dimColor>{c.filter ? 'no entry matches the filter (/ to change it)' : 'no connection entries'}</Text> : null}
      {c.rows.map((r, i) => (
        <Row key={r.id} c={r} selected={c.offset + i === c.sel} cols={cols} mono={t.mono} />
      ))}
    </Box>
  );
}
