// Sync: the connection-sync daemons of this process — roles, transport, what was sent and
// received, rejections by reason, the master's queue against sync_qlen_max, the backup's applies.
import {Box, Text} from 'ink';
import type {SyncRoleStatus, SyncStatus} from '../../src/store/sync-status.js';
import {useTheme, useUi} from '../context.js';

function reasons(r: Record<string, number>): string {
  const parts = Object.entries(r).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(', ') : 'none';
}

function ago(nowMs: number, at: number | null): string {
  if (at === null) return 'never';
  return `${((nowMs - at) / 1000).toFixed(1)} s ago`;
}

function Role({r, nowMs}: {r: SyncRoleStatus; nowMs: number}) {
  const t = useTheme();
  if (!r.config) {
    return <Text wrap="truncate-end"><Text bold>{r.role.padEnd(7)}</Text><Text dimColor> stopped  (start: :--start-daemon {r.role} --syncid N)</Text></Text>;
  }
  const s = r.stats;
  const lines: string[] = [];
  lines.push(`syncid ${r.config.syncId}  ${r.transport ?? `${r.config.group}:${r.config.port} on ${r.config.mcastIfn}`}` +
    (s ? `  ${s.threads} thread(s), maxlen ${s.syncMaxLen}` : ''));
  if (s && r.role === 'master') {
    lines.push(`sent: ${s.messages.sent} messages, ${s.entries.sent} entries, ${s.bytes.sent} bytes; last ${ago(nowMs, s.lastMessageAt)}`);
    lines.push(`queue ${s.queue.length}/${s.queue.max} (per thread ${s.queue.perThread.join(' ')}), ${s.queue.pendingEntries} entries buffered, ` +
      `${s.queue.dropped} messages dropped on a full queue`);
  }
  if (s && r.role === 'backup') {
    lines.push(`received: ${s.messages.received} messages, ${s.entries.received} entries from ${s.lastFrom ?? '-'}; last ${ago(nowMs, s.lastMessageAt)}`);
    lines.push(`applied: ${s.applied.created} created, ${s.applied.updated} updated, ${s.applied.replaced} replaced, ${s.applied.stale} stale`);
  }
  if (s) {
    lines.push(`rejected messages: ${reasons(s.messages.rejected)}`);
    lines.push(`rejected entries: ${reasons(s.entries.rejected)}`);
  }
  const err = r.error ?? s?.lastError ?? null;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end"><Text bold>{r.role.padEnd(7)}</Text><Text color={t.c(err ? 'red' : 'green')}>{err ? ' FAILED' : ' running'}</Text></Text>
      {lines.map((l, k) => <Text key={k} wrap="truncate-end">{`  ${l}`}</Text>)}
      {err ? <Text wrap="truncate-end" color={t.c('red')}>{`  error: ${err}`}</Text> : null}
    </Box>
  );
}

export function SyncView({width, height}: {width: number; height: number}) {
  const v = useUi((s) => ({status: s.sync, nowMs: s.snap?.now ?? 0}));
  return <Sync width={width} height={height} status={v.status} nowMs={v.nowMs} />;
}

export function Sync({width, height, status, nowMs}: {width: number; height: number; status: SyncStatus | null; nowMs: number}) {
  if (!status) return <Text dimColor>loading…</Text>;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end"><Text bold>Connection sync</Text>{status.hosted ? '' : '  (this process hosts no sync daemons)'}</Text>
      <Text wrap="truncate-end" dimColor>{Object.entries(status.tunables).map(([k, v]) => `${k}=${v.replace('\t', ' ')}`).join('  ')}</Text>
      <Text> </Text>
      {status.roles.map((r) => <Role key={r.role} r={r} nowMs={nowMs} />)}
      <Text> </Text>
      <Text wrap="truncate-end" dimColor>m start/stop master  b start/stop backup  (or :--start-daemon master|backup --syncid N, :--stop-daemon ROLE)</Text>
    </Box>
  );
}
