// Log: the debug_level event stream (filter by level and text, follow/pause) and the audit of
// operator changes.
import {Box, Text} from 'ink';
import {DBG_LEVEL_NAMES} from '../../src/engine/debug-log.js';
import {cell} from '../../src/ui/format.js';
import {useSession, useTheme, useUi} from '../context.js';

export function Log({width, height}: {width: number; height: number}) {
  const t = useTheme();
  const session = useSession();
  const v = useUi((s) => ({log: s.log, audit: s.audit, level: s.tun.rows.find((r) => r.name === 'debug_level')?.value ?? '0'}));
  const auditH = Math.min(6, Math.max(3, Math.floor(height / 4)));
  const logH = Math.max(1, height - 2 - auditH - 1);
  const lines = session.visibleLog();
  const end = Math.max(0, lines.length - v.log.scroll);
  const shown = lines.slice(Math.max(0, end - logH), end);
  const audit = v.audit.slice(-(auditH));
  const lvl = Number(v.level);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end">
        <Text bold>Log</Text>{`  debug_level ${v.level}${lvl > 0 ? ` (records up to: ${DBG_LEVEL_NAMES[Math.min(12, lvl)]})` : ' (only transmit errors)'}`}
        {`  showing levels ≤ ${v.log.maxLevel}`}{v.log.filter ? `  filter "${v.log.filter}"` : ''}
        <Text color={t.c(v.log.follow ? 'green' : 'yellow')}>{v.log.follow ? '  following' : '  PAUSED'}</Text>
        {v.log.scroll ? `  (${v.log.scroll} lines back)` : ''}
      </Text>
      <Box flexDirection="column" height={logH}>
        {shown.length === 0 ? <Text dimColor>{lvl === 0 ? 'no messages: raise debug_level with + (1 errors, 2 config, 4 drop_entry, 7 connections, 8 states)' : 'no messages yet'}</Text> : null}
        {shown.map((l) => (
          <Text key={l.seq} wrap="truncate-end" color={t.c(l.level <= 1 ? 'red' : l.level <= 2 ? 'yellow' : undefined)}>
            <Text dimColor>{cell((l.t / 1000).toFixed(3), 11, 'right')} L{cell(l.level, 2)}</Text> {l.msg}
          </Text>
        ))}
      </Box>
      <Text wrap="truncate-end" bold>{`Audit: operator changes (${v.audit.length})`}</Text>
      <Box flexDirection="column" height={auditH}>
        {audit.length === 0 ? <Text dimColor>none yet</Text> : null}
        {audit.map((a) => (
          <Text key={a.seq} wrap="truncate-end" color={t.c(a.ok ? undefined : 'red')}>
            <Text dimColor>{new Date(a.wall).toISOString().slice(11, 19)} {cell(a.user, 8)}</Text> {a.what}{a.ok ? '' : `  ✗ ${a.result}`}
          </Text>
        ))}
      </Box>
    </Box>
  );
}
