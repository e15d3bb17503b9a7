// The live UI's frames over the kernel backend at 140x45, on the real kernel (inside tools/kernel-vm):
// what the kernel holds is what the views draw, and a defense keypress reaches /proc/sys.
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';
import {render} from 'ink-testing-library';
import {KernelBackend} from '../../src/kernel/backend.js';
import {AuditLog} from '../../src/store/actions.js';
import {UiSession} from '../../src/store/session.js';
import {stripAnsi} from '../../src/ui/charts.js';
import {App} from '../../components/App.js';
import {RS1, VIP, buildLab, holdOpen, inVm, ipvsadm, resetIpvs, sleep, sysctl} from './lab.js';

describe('the UI over the kernel backend at 140x45', {skip: !inVm && 'needs the kernel VM (tools/kernel-vm)'}, () => {
  let b: KernelBackend;
  let release = () => {};
  before(async () => {
    buildLab();
    resetIpvs();
    ipvsadm('-A', '-t', `${VIP}:80`, '-s', 'rr');
    ipvsadm('-a', '-t', `${VIP}:80`, '-r', `${RS1}:80`, '-m', '-w', '4');
    release = holdOpen();
    await sleep(1500);
    b = new KernelBackend({allowWrites: true, pollMs: 0, scanMs: 0});
    await b.scanConns();
  });
  after(() => { release(); b?.close(); });

  it('draws the kernel\'s services, connections and tunables; `e` arms drop_entry in the kernel', async () => {
    const session = new UiSession({backend: b, audit: new AuditLog(), size: {cols: 140, rows: 45}, user: 'root'});
    const r = render(<App session={session} />);
    const screen = () => stripAnsi(r.lastFrame() ?? '');
    const press = async (k: string) => { r.stdin.write(k); await sleep(60); session.refresh(true); await sleep(60); };
    try {
      session.refresh(true);
      await sleep(100);
      await press('2');
      assert.match(screen(), new RegExp(`${VIP.replace(/\./g, '\\.')}:80`));
      assert.match(screen(), new RegExp(`${RS1.replace(/\./g, '\\.')}:80`));
      await press('3');
      assert.match(screen(), /ESTABLISHED/, screen());
      await press('4');
      assert.match(screen(), /amemthresh/);
      await press('1');
      await press('e');
      assert.equal(sysctl('drop_entry'), '1');
      const frame = screen();
      assert.ok(frame.split('\n').length <= 45, `frame of ${frame.split('\n').length} lines`);
      assert.ok(frame.split('\n').every((l) => l.length <= 140));
    } finally {
      r.unmount();
      session.stop();
      b.setTunable('drop_entry', '0');
    }
  });
});
