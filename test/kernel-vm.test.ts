// The real-kernel tests (test/kernel/*.kernel.ts[x]) run inside a qemu VM that boots a Debian 6.1
// kernel with IPVS (tools/kernel-vm/run.sh): one boot for the whole directory. Without qemu (or
// without root, which the VM's shared directory needs) this skips with one line saying why.
import {spawnSync} from 'node:child_process';
import {mkdirSync, readdirSync} from 'node:fs';
import {describe, expect, it} from 'vitest';

const hasQemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], {stdio: 'ignore'}).status === 0;
const isRoot = process.getuid?.() === 0;
const skipWhy = !hasQemu
  ? 'real-kernel IPVS tests skipped: install qemu-system-x86 busybox-static ipvsadm iproute2 cpio kmod gzip (Debian)'
  : !isRoot ? 'real-kernel IPVS tests skipped: tools/kernel-vm needs root (virtiofsd, apt-get)' : null;
if (skipWhy) console.warn(`kernel-vm: ${skipWhy}`);

describe('the real kernel\'s IPVS (tools/kernel-vm)', () => {
  it.skipIf(skipWhy !== null)('test/kernel passes inside a qemu VM booted once', () => {
    // The spec report goes beside vitest's; on a clean checkout that directory does not exist yet.
    mkdirSync('.test-results', {recursive: true});
    const files = readdirSync('test/kernel').filter((f) => /\.kernel\.tsx?$/.test(f)).sort().map((f) => `test/kernel/${f}`);
    // under TCG on a loaded host: serve.kernel.ts starts lvsdeck serve three times (about 4 minutes),
    // differential.kernel.ts runs 24 scenarios (about 4), tmux.kernel.ts waits for the real binary (about 3)
    const r = spawnSync('tools/kernel-vm/run.sh', ['--timeout', '2100', '--', 'node', '--import', 'tsx', '--test', '--test-concurrency=1',
      '--test-reporter=dot', '--test-reporter-destination=stdout', '--test-reporter=spec', '--test-reporter-destination=.test-results/kernel-vm.txt',
      ...files], {encoding: 'utf8'});
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  }, 2_160_000);
});
