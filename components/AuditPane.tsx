// Who/Audit (view 7): the UI sessions connected to this instance (user, role, where from, since
// when, window size) and the audit trail of changes with their old and new values, refusals
// included. Shared by every session; the ssh server and the console fill the same registry.
import {Box, Text} from 'ink';
import type {AuditEntry} from '../src/store/actions.js';
import type {Peer} from '../src/store/session.js';
import {cell, clock} from '../src/ui/format.js';
import {useTheme, useUi} from './context.js';

export const ROLE_COLOR: Record<string, string> = {reader: 'yellow', operator: 'green', admin: 'magenta'};

const hhmmss = (wall: number) => new Date(wall).toTimeString().slice(0, 8);

function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}`;
}

export function AuditPane({width, height}: {width: number; height: number}) {
  const t = useTheme();
  const v = useUi((s) => ({peers: s.peers, audit: s.audit, scroll: s.auditScroll, me: s.sessionId, user: s.user, role: s.role}));
  const now = Date.now();
  const peers: Peer[] = v.peers;
  const peerRows = Math.min(peers.length, Math.max(1, Math.floor((height - 4) / 3)));
  const auditH = Math.max(1, height - 4 - Math.max(1, peerRows));
  const end = Math.max(0, v.audit.length - v.scroll);
  const shown: AuditEntry[] = v.audit.slice(Math.max(0, end - auditH), end);
  const refused = v.audit.filter((e) => e.outcome === 'refused').length;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end">
        <Text bold>{`Who: ${peers.length || 1} connected`}</Text>
        {'  you are '}<Text bold color={t.c(ROLE_COLOR[v.role])}>{`${v.user} (${v.role})`}</Text>
        <Text dimColor>{'   reader watches · operator: weights, defenses, attacks, clock · admin: everything'}</Text>
      </Text>
      {peers.length === 0 ? <Text dimColor>this terminal only (lvsdeck serve shares one engine between ssh sessions)</Text> : null}
      {peers.slice(0, peerRows).map((p) => (
        <Text key={p.id} wrap="truncate-end" bold={p.id === v.me}>
          {p.id === v.me ? '▸' : ' '}{cell(p.id, 3, 'right')} {cell(p.user, 16)} <Text color={t.c(ROLE_COLOR[p.role])}>{cell(p.role, 8)}</Text>
          {' '}{cell(p.from, 24)} {`since ${hhmmss(p.since)} (${ago(now - p.since)})`}{`  ${p.cols}x${p.rows}`}
          {p.backlogged ? <Text color={t.c('red')}>{'  backlogged: frames skipped'}</Text> : null}
        </Text>
      ))}
      {peers.length > peerRows ? <Text dimColor>{`  … and ${peers.length - peerRows} more`}</Text> : null}
      <Text wrap="truncate-end">
        <Text bold>{`Audit: ${v.audit.length} changes`}</Text>{refused ? `, ${refused} refused` : ''}
        {v.scroll ? `  (${v.scroll} back; G newest)` : ''}
      </Text>
      <Text dimColor wrap="truncate-end">{'  ' + cell('wall', 9) + cell('virtual', 9) + cell('user', 12) + cell('role', 9) + cell('outcome', 9) + 'old → new  ·  what was asked'}</Text>
      <Box flexDirection="column" height={auditH}>
        {shown.length === 0 ? <Text dimColor>  no changes yet</Text> : null}
        {shown.map((e) => (
          <Text key={e.seq} wrap="truncate-end" color={t.c(e.outcome === 'refused' ? 'yellow' : e.outcome === 'failed' ? 'red' : undefined)}>
            {'  ' + cell(hhmmss(e.wall), 9) + cell(clock(e.virtual), 9) + cell(e.user, 12) + cell(e.role, 9)}
            {cell(e.outcome === 'ok' ? 'ok' : e.outcome === 'refused' ? 'REFUSED' : 'failed', 9)}
            <Text bold>{e.change || '-'}</Text>{`  ·  ${e.what}`}{e.outcome === 'ok' ? '' : `  (${e.result})`}
          </Text>
        ))}
      </Box>
    </Box>
  );
}
