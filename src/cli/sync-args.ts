// The sync flags shared by `lvsdeck sync` and the --sync flags of ui and serve (spec:
// SYNC_HOST_OPTIONS in src/cli/specs.ts): one reading, one set of messages.
import {parseAllowedPeers} from '../sync/backup.js';
import type {SyncHostOptions} from '../sim/sync-attach.js';
import {intValue, listValue, type OptionValues, stringValue, UsageError} from './args.js';

/** --sync-allow ADDR[/N]...: the senders a backup accepts (undefined: any, as the kernel). */
export function allowedPeersValue(values: OptionValues): string[] | undefined {
  const allowed = listValue(values, 'sync-allow');
  if (!allowed.length) return undefined;
  try {
    parseAllowedPeers(allowed);
  } catch (err) {
    throw new UsageError(`--sync-allow: ${(err as Error).message}`);
  }
  return allowed;
}

/** --sync ROLE..., --sync-peer, --mcast-interface, --syncid, --sync-allow of ui and serve. */
export function syncHostOptions(values: OptionValues): SyncHostOptions {
  const o: SyncHostOptions = {};
  for (const role of listValue(values, 'sync')) {
    if (role !== 'master' && role !== 'backup') throw new UsageError(`--sync wants master or backup, got '${role}'`);
    (o.roles ??= []).push(role);
  }
  const peer = stringValue(values, 'sync-peer');
  if (peer !== undefined) o.peer = peer;
  const ifname = stringValue(values, 'mcast-interface');
  if (ifname !== undefined) o.mcastInterface = ifname;
  const syncId = stringValue(values, 'syncid');
  if (syncId !== undefined) o.syncId = intValue('syncid', syncId, 0, 255);
  const allowed = allowedPeersValue(values);
  if (allowed) o.allowedPeers = allowed;
  return o;
}
