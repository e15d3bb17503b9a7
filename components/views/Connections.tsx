// Connections: the live table (one engine query per frame for the visible window only), templates
// marked, filter, single-key sort, paging over a million entries. The rows are drawn column by
// column (ColumnTable): a 140x45 page is ~10 Ink nodes and Ink styles each distinct cell once.
import {Box, Text} from 'ink';
import type {ConnInfo} from '../../src/store/backend.js';
import {addrPort, cell, type CellStyle, mmss, num, paint} from '../../src/ui/format.js';
import {useTheme, useUi} from '../context.js';
import {ColumnTable, type TableColumn} from '../widgets.js';

const SORT_LETTER: Record<string, string> = {
  proto: 'P', client: 'C', virtual: 'V', real: 'R', state: 'S', expires: 'E', inpkts: 'I', outpkts: 'O',
};

export interface ConnCols { virt: boolean; pkts: boolean; addrW: number }

export function connColsFor(width: number): ConnCols {
  const virt = width >= 100;
  const pkts = width >= 88;
  const fixed = 2 + 4 + 12 + 6 + (pkts ? 16 : 0) + (virt ? 3 : 2) * 1 + 6;
  const addrW = Math.max(15, Math.min(23, Math.floor((width - fixed) / (virt ? 3 : 2))));
  return {virt, pkts, addrW};
}

/** One column of the table: its header (given the sort arrow), width and the text of a row's cell. */
interface ConnColumn {
  width: number;
  head: (arrow: (letter: string) => string) => string;
  cell: (c: ConnInfo, selected: boolean) => string;
}

function connColumns(cols: ConnCols): ConnColumn[] {
  const addr = (title: string, letter: string, text: (c: ConnInfo) => string): ConnColumn => ({
    width: cols.addrW + 1, head: (a) => cell(title + a(letter), cols.addrW) + ' ', cell: (c) => cell(text(c), cols.addrW) + ' ',
  });
  const out: ConnColumn[] = [
    {width: 2, head: () => '  ', cell: (c, selected) => (selected ? '▸' : c.template ? 'T' : ' ') + ' '},
    {width: 4, head: (a) => cell('Pro' + a('P'), 4), cell: (c) => cell(c.protoName, 4)},
    addr('Client', 'C', (c) => addrPort(c.caddr, c.cport)),
  ];
  if (cols.virt) out.push(addr('Virtual', 'V', (c) => (c.fwmarkTemplate ? `FWM ${c.vaddr}` : addrPort(c.vaddr, c.vport))));
  out.push(
    addr('Real server', 'R', (c) => addrPort(c.daddr, c.dport)),
    {width: 12, head: (a) => cell('State' + a('S'), 12), cell: (c) => cell(c.stateName, 12)},
    {width: 6, head: (a) => cell('Expire' + a('E'), 6, 'right'), cell: (c) => cell(mmss(c.expiresIn), 6, 'right')},
  );
  if (cols.pkts) {
    out.push(
      {width: 8, head: (a) => cell('InPkt' + a('I'), 8, 'right'), cell: (c) => cell(num(c.inPkts, true), 8, 'right')},
      {width: 8, head: (a) => cell('OutPkt' + a('O'), 8, 'right'), cell: (c) => cell(num(c.outPkts, true), 8, 'right')},
    );
  }
  return out;
}

/** A row's colour: templates cyan, SYN_RECV red, ESTABLISHED green (none in monochrome). */
export function connRowStyle(c: ConnInfo, selected: boolean, mono: boolean): CellStyle {
  const color = mono ? undefined : c.template ? 'cyan' : c.stateName === 'SYN_RECV' ? 'red' : c.stateName === 'ESTABLISHED' ? 'green' : undefined;
  return {color, inverse: selected};
}

/** The text of one row, as the table shows it (cells concatenated). */
export function connRowText(c: ConnInfo, selected: boolean, cols: ConnCols): string {
  return connColumns(cols).map((k) => k.cell(c, selected)).join('');
}

export function Connections({width, height}: {width: number; height: number}) {
  const t = useTheme();
  const c = useUi((s) => s.conns);
  const cols = connColsFor(width);
  const columns = connColumns(cols);
  const sortText = c.sort ? `sort ${c.sort} ${c.desc ? '↓' : '↑'}` : 'slot order';
  const tpl = c.templates === 'include' ? '' : c.templates === 'exclude' ? '  templates hidden' : '  templates only';
  const first = c.total ? c.offset + 1 : 0;
  const last = c.offset + c.rows.length;
  const arrow = (k: string) => (c.sort && SORT_LETTER[c.sort] === k ? (c.desc ? '↓' : '↑') : '');
  const header = columns.map((k) => k.head(arrow)).join('');
  const styles = c.rows.map((r, i) => connRowStyle(r, c.offset + i === c.sel, t.mono));
  const table: TableColumn[] = columns.map((k) => ({
    width: k.width, cells: c.rows.map((r, i) => paint(k.cell(r, styles[i]!.inverse!), styles[i]!)),
  }));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end">
        <Text bold>Connections {num(c.total)}</Text>
        {c.filter ? <Text color={t.c('yellow')}>{`  filter "${c.filter}"`}</Text> : null}
        {`${tpl}  ${sortText}  rows ${num(first)}-${num(last)}`}
        <Text dimColor>{`  query ${c.queryMs.toFixed(1)} ms`}</Text>
        {c.ageMs !== undefined ? <Text color={t.c('yellow')}>{`  as of a scan ${Math.round(c.ageMs / 1000)} s ago`}</Text> : null}
        {c.error ? <Text color={t.c('red')}>{`  ${c.error}`}</Text> : null}
      </Text>
      <Text wrap="truncate-end" bold dimColor>{header}</Text>
      {c.rows.length === 0
        ? <Text dimColor>{c.filter ? 'no entry matches the filter (/ to change it)' : 'no connection entries'}</Text>
        : <ColumnTable columns={table} rows={c.rows.length} />}
    </Box>
  );
}
