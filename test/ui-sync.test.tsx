// The Sync view (8): daemon status from a real SyncManager over an in-memory network, start/stop
// by key and by the command bar, and the admin-only rule for both.
import {afterEach, describe, expect, test} from 'vitest';
import {MemorySyncNetwork, SyncManager} from '../src/sync/index.js';
import {Actions} from '../src/store/actions.js';
import {KEYS, setup} from './ui-harness.js';

let cleanup: (() => void) | null = null;
afterEach(() => { cleanup?.(); cleanup = null; });

function start() {
  const h = setup();
  cleanup = h.unmount;
  const net = new MemorySyncNetwork();
  const mgr = new SyncManager(h.sim.engine, net.endpoint('director-a'));
  h.sim.sync = mgr;
  h.sim.onAdvance((now) => mgr.poll(now));
  return h;
}

describe('Sync view', () => {
  test('m starts the master daemon, its counters show after traffic, m stops it; the audit records both', async () => {
    const h = start();
    await h.press('8');
    expect(h.screen()).toMatch(/Connection sync/);
    expect(h.screen()).toMatch(/master\s+stopped/);
    expect(h.screen()).toMatch(/sync_threshold=3 50/);
    await h.press('m');
    expect(h.sim.engine.syncDaemons.master?.syncId).toBe(0);
    await h.advance(100); // the manager opens the daemon at its next poll (its transport is async)
    await h.advance(5000);
    const s = h.screen();
    expect(s).toMatch(/master\s+running/);
    expect(s).toMatch(/sent: [1-9]\d* messages, [1-9]\d* entries/);
    expect(s).toMatch(/queue \d+\/\d+/);
    await h.press('m');
    expect(h.sim.engine.syncDaemons.master).toBeUndefined();
    await h.advance(100);
    expect(h.screen()).toMatch(/master\s+stopped/);
    const what = h.audit.list().map((a) => a.what);
    expect(what).toContain('ipvsadm --start-daemon master --syncid 0');
    expect(what).toContain('ipvsadm --stop-daemon master');
  });

  test('the command bar starts a backup with a syncid; starting it twice is EEXIST', async () => {
    const h = start();
    await h.press('8', ':', ...'--start-daemon backup --syncid 7'.split(''), KEYS.enter);
    expect(h.sim.engine.syncDaemons.backup?.syncId).toBe(7);
    await h.advance(100);
    expect(h.screen()).toMatch(/backup\s+running/);
    expect(h.screen()).toMatch(/syncid 7/);
    await h.press(':', ...'--start-daemon backup'.split(''), KEYS.enter);
    expect(h.screen()).toMatch(/✗ ipvsadm --start-daemon backup .*: sync daemon backup is already/);
  });

  test('an operator may not start a sync daemon: refused, nothing changes, the refusal is audited', async () => {
    const h = start();
    const actions = new Actions({backend: h.backend, audit: h.audit, user: 'bob', role: 'operator', readOnly: false});
    const r = actions.apply({op: 'sync-start', role: 'master', syncId: 0});
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/needs the admin role/);
    expect(h.sim.engine.syncDaemons.master).toBeUndefined();
    expect(h.audit.list().at(-1)).toMatchObject({user: 'bob', ok: false});
  });
});
