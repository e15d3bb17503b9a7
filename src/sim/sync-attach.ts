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
  /** Backups accept datagrams only from these senders (addresses or blocks; --sync-allow). */
  allowedPeers?: string[];
}

export async function attachSyncDaemons(sim: Simulation, o: SyncHostOptions = {}): Promise<SyncManager> {
  const e = sim.engine;
  const mgr = new SyncManager(e, udpTransport({
    peer: o.peer ? parsePeer(o.peer) : undefined,
    mcastInterface: o.mcastInterface,
    sockSize: () => e.tunables.v.sync_sock_size!,
  }), o.allowedPeers?.length ? {allowedPeers: o.allowedPeers} : {});
  sim.sync = mgr;
  sim.onAdvance((now) => mgr.poll(now));
  for (const role of o.roles ?? []) await mgr.start({role, syncId: o.syncId ?? 0, mcastIfn: o.mcastInterface});
  return mgr;
}
