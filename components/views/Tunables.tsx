// Tunables: every sysctl of the registry with value, default, allowed values, the handler's rule
// and our help text. Enter edits in place; a rejected write shows the handler's error and the
// value stays; values that differ from the kernel default stand out.
import {Box, Text} from 'ink';
import {cell} from '../../src/ui/format.js';
import {useTheme, useUi} from '../context.js';

export function Tunables({width, height}: {width: number; height: number}) {
  const t = useTheme();
  const v = useUi((s) => ({tun: s.tun, input: s.input}));
  const rows = v.tun.rows;
  const detailH = Math.min(9, Math.max(5, Math.floor(height * 0.4)));
  const page = Math.max(1, height - 2 - detailH);
  const sel = v.tun.sel;
  const top = Math.max(0, Math.min(sel - Math.floor(page / 2), rows.length - page));
  const cur = rows[sel];
  const nameW = 26, valW = 14, defW = 12;
  const sumW = Math.max(0, width - nameW - valW - defW - 5);
  const editing = v.input?.kind === 'tunable' ? v.input : null;
  const wrapped = cur ? wrap(`${cur.help}`, width - 2) : [];
  const ndiff = rows.filter((r) => r.differs).length;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end"><Text bold>Tunables</Text>{`  /proc/sys/net/ipv4/vs: ${rows.length}, ${ndiff} differ from the kernel default (*)`}</Text>
      <Text wrap="truncate-end" bold dimColor>{'  ' + cell('Name', nameW) + cell('Value', valW) + cell('Default', defW) + 'Summary'}</Text>
      <Box flexDirection="column" height={page}>
        {rows.slice(top, top + page).map((r, k) => {
          const i = top + k;
          const selected = i === sel;
          const isEdit = editing && editing.target === r.name;
          return (
            <Text key={r.name} wrap="truncate-end" inverse={selected && !isEdit}>
              {(selected ? '▸' : ' ') + (r.differs ? '*' : ' ')}{cell(r.name, nameW)}
              {isEdit
                ? <Text inverse color={t.c('yellow')}>{cell(editing!.buffer + '▏', valW)}</Text>
                : <Text bold={r.differs} color={t.c(r.differs ? 'yellow' : undefined)}>{cell(r.value.replace(/\t/g, ' '), valW)}</Text>}
              {cell(r.defaultText.replace(/\t/g, ' '), defW)}{cell(r.summary, sumW)}
            </Text>
          );
        })}
      </Box>
      <Box flexDirection="column" height={detailH}>
        {v.tun.error ? <Text wrap="truncate-end" color={t.c('red')} bold>{`✗ ${v.tun.error} — value kept: ${cur?.value ?? ''}`}</Text>
          : v.tun.note ? <Text wrap="truncate-end" color={t.c('green')}>{`✓ ${v.tun.note}`}</Text>
            : <Text wrap="truncate-end" bold>{cur ? `${cur.name} (${cur.category}, ${cur.handler})` : ''}</Text>}
        {cur ? <Text wrap="truncate-end"><Text dimColor>allowed </Text>{cur.allowed}</Text> : null}
        {cur ? <Text wrap="truncate-end"><Text dimColor>rule    </Text>{cur.rule}</Text> : null}
        {wrapped.slice(0, Math.max(0, detailH - 3)).map((l, i) => <Text key={i} wrap="truncate-end">{l}</Text>)}
      </Box>
    </Box>
  );
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/)) {
    if (line && line.length + 1 + w.length > width) { out.push(line); line = w; }
    else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out;
}
