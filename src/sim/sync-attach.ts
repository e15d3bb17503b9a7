// Host the sync daemons of a long-running process (the live UI, serve): one manager, polled after
// every advance of the simulation, reconciles sockets with the roles the engine records — started
// by a flag here, by :--start-daemon in the command bar or by the Sync view's keys.
import type {Simulation} from './simulation.js';
import {udpTransport, parsePeer} from '../sync/daemon.js';
import {SyncManager} from '../sync/manager.js';

export interface SyncHostOptions {
  roles?: ('master' | 'backup')[];
  /** Unicast peer "host:port" instead of multicast. */
  peer?: string;
  mcastInterface?: string;
  syncId?: number;
}

/**
 * The sync flags the long-running commands share (--sync ROLE, --sync-peer, --mcast-interface,
 * --syncid): applies `flag` to `o` and returns true, or returns false for any other flag.
 */
export function takeSyncFlag(flag: string, value: () => string, o: SyncHostOptions): boolean {
  switch (flag) {
    case '--sync': {
      const role = value();
      if (role !== 'master' && role !== 'backup') throw new Error(`--sync wants master or backup, got '${role}'`);
      (o.roles ??= []).push(role);
      return true;
    }
    case '--sync-peer': o.peer = value(); return true;
    case '--mcast-interface': o.mcastInterface = value(); return true;
    case '--syncid': {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) > 255) throw new Error(`--syncid wants 0..255, got '${v}'`);
      o.syncId = Number(v);
      return true;
    }
    default: return false;
  }
}

export async function attachSyncDaemons(sim: Simulation, o: SyncHostOptions = {}): Promise<SyncManager> {
  const e = sim.engine;
  const mgr = new SyncManager(e, udpTransport({
    peer: o.peer ? parsePeer(o.peer) : undefined,
    mcastInterface: o.mcastInterface,
    sockSize: () => e.tunables.v.sync_sock_size!,
  }));
  sim.sync = mgr;
  sim.onAdvance((now) => mgr.poll(now));
  for (const role of o.roles ?? []) await mgr.start({role, syncId: o.syncId ?? 0, mcastIfn: o.mcastInterface});
  return mgr;
}
