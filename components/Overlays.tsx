// Overlays drawn in place of the view body: help, confirmation, forms, an entry's details and the
// attack menu.
import {Box, Text} from 'ink';
import {attackEntries} from '../src/ui/commands.js';
import {cell, mmss, num} from '../src/ui/format.js';
import {KEY_HELP} from '../src/ui/keys.js';
import {useSession, useTheme, useUi} from './context.js';

export function Overlay({width, height}: {width: number; height: number}) {
  const kind = useUi((s) => s.overlay?.kind ?? null);
  switch (kind) {
    case 'help': return <Help width={width} height={height} />;
    case 'confirm': return <Confirm width={width} height={height} />;
    case 'form': return <Form width={width} height={height} />;
    case 'conn': return <ConnDetails width={width} height={height} />;
    case 'attack': return <AttackMenu width={width} height={height} />;
    default: return null;
  }
}

function Help({width, height}: {width: number; height: number}) {
  const scroll = useUi((s) => (s.overlay?.kind === 'help' ? s.overlay.scroll : 0));
  const lines: {text: string; head: boolean}[] = [];
  for (const sec of KEY_HELP) {
    lines.push({text: sec.section, head: true});
    for (const [k, d] of sec.keys) lines.push({text: `  ${cell(k, 18)} ${d}`, head: false});
  }
  const page = height - 1;
  const top = Math.min(scroll, Math.max(0, lines.length - page));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold inverse wrap="truncate-end">{cell(' Help: keys (Esc closes; j/k scroll)', width)}</Text>
      {lines.slice(top, top + page).map((l, i) => (
        <Text key={i} bold={l.head} wrap="truncate-end" underline={l.head}>{l.text}</Text>
      ))}
    </Box>
  );
}

function Confirm({width, height}: {width: number; height: number}) {
  const t = useTheme();
  const text = useUi((s) => (s.overlay?.kind === 'confirm' ? s.overlay.text : ''));
  return (
    <Box flexDirection="column" width={width} height={height} alignItems="center" justifyContent="center">
      <Box borderStyle="round" borderColor={t.c('yellow')} flexDirection="column" paddingX={2}>
        <Text bold>{text}</Text>
        <Text>y: yes   n / Esc: no</Text>
      </Box>
    </Box>
  );
}

function Form({width, height}: {width: number; height: number}) {
  const t = useTheme();
  const form = useUi((s) => (s.overlay?.kind === 'form' ? s.overlay.form : null));
  if (!form) return null;
  const labelW = Math.max(...form.fields.map((f) => f.label.length)) + 2;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box borderStyle="round" borderColor={t.c('cyan')} flexDirection="column" paddingX={1} width={Math.min(width, 90)}>
        <Text bold>{form.title}</Text>
        {form.fields.map((f, i) => (
          <Text key={f.name} wrap="truncate-end">
            {cell(f.label, labelW)}
            <Text inverse={i === form.focus}>{cell(f.value + (i === form.focus ? '▏' : ''), 24)}</Text>
            <Text dimColor>{'  ' + (f.hint ?? '')}</Text>
          </Text>
        ))}
        {form.error ? <Text color={t.c('red')} bold wrap="wrap">{`✗ ${form.error}`}</Text> : <Text dimColor>Enter: apply   Tab/↓: next field   Esc: cancel</Text>}
      </Box>
    </Box>
  );
}

function ConnDetails({width, height}: {width: number; height: number}) {
  const t = useTheme();
  const d = useUi((s) => (s.overlay?.kind === 'conn' ? s.overlay.detail : null));
  const gone = useUi((s) => s.overlay?.kind === 'conn' && s.overlay.gone);
  if (!d) {
    return <Box width={width} height={height}><Text color={t.c('yellow')}>Connection expired (Esc to go back).</Text></Box>;
  }
  const i = d.info;
  const rows: [string, string][] = [
    ['Entry', `#${i.id}  ${d.label}`],
    ['State', `${i.stateName}${i.template ? ' (persistence template)' : ''}`],
    ['Flags', `0x${i.flags.toString(16)}  ${d.flagNames.join(' ') || '-'}  fwd ${i.fwd}`],
    ['Timer', `timeout ${Math.round(i.timeout / 1000)} s, expires in ${mmss(i.expiresIn)} (${(i.expiresIn / 1000).toFixed(1)} s)`],
    ['Counters', `in ${num(i.inPkts)} pkts, out ${num(i.outPkts)} pkts`],
    ['Real server', d.destLabel ?? `dest #${i.destId} (gone)`],
    ['Controlled by', d.controller ?? '-'],
    ['Controls', `${i.nControl} entries`],
  ];
  if (i.fwmark) rows.push(['fwmark', String(i.fwmark)]);
  const traceH = Math.max(1, height - rows.length - 3);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold inverse wrap="truncate-end">{cell(' Connection entry (Esc closes)', width)}</Text>
      {gone ? <Text color={t.c('yellow')} wrap="truncate-end">Connection expired: the values below are the last seen.</Text> : null}
      {rows.map(([k, v]) => (
        <Text key={k} wrap="truncate-end"><Text dimColor>{cell(k, 14)}</Text>{v}</Text>
      ))}
      <Text bold wrap="truncate-end">Recent trace lines (debug_level ≥ 7 records connection events)</Text>
      {d.trace.length === 0 ? <Text dimColor>none in the log buffer</Text> : null}
      {d.trace.slice(-traceH).map((l) => (
        <Text key={l.seq} wrap="truncate-end"><Text dimColor>{(l.t / 1000).toFixed(3)} L{l.level}</Text> {l.msg}</Text>
      ))}
    </Box>
  );
}

function AttackMenu({width, height}: {width: number; height: number}) {
  const t = useTheme();
  const session = useSession();
  const sel = useUi((s) => (s.overlay?.kind === 'attack' ? s.overlay.sel : 0));
  useUi((s) => s.traffic.rows);
  const entries = attackEntries(session);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold inverse wrap="truncate-end">{cell(' Attack menu: Enter/space start·stop, +/- rate, Esc close', width)}</Text>
      <Text bold dimColor wrap="truncate-end">{'  ' + cell('Attack', 12) + cell('Target', 20) + cell('Rate/s', 10, 'right') + '  ' + cell('State', 12) + 'Effect'}</Text>
      {entries.map((e, i) => (
        <Text key={e.kind} wrap="truncate-end" inverse={i === sel} color={t.c(e.gen?.running ? 'red' : undefined)}>
          {(i === sel ? '▸ ' : '  ') + cell(e.kind, 12) + cell(e.target ?? '-', 20) + cell(num(e.rate), 10, 'right') + '  ' +
            cell(e.gen ? (e.gen.running ? 'RUNNING' : 'stopped') : 'not started', 12) + EFFECT[e.kind]}
        </Text>
      ))}
    </Box>
  );
}

const EFFECT: Record<string, string> = {
  synflood: 'spoofed SYNs: SYN_RECV entries fill memory (drop_entry, secure_tcp)',
  connflood: 'full handshakes from many sources, held open',
  ackflood: 'ACKs with no entry (sloppy_tcp decides)',
  rstflood: 'RSTs at random tuples',
  udpflood: 'UDP datagrams from spoofed sources: one entry each',
  portreuse: 'clients reconnecting from the same ports (conn_reuse_mode)',
};
