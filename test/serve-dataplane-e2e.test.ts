// `lvsdeck serve --dataplane tun` end to end, as root: the lab's namespaces, the real binary serving
// the director on lvs-tun0 over ssh on loopback, curl in the client namespace, ssh2's client as a
// reader and an operator. Real connections show in the UI and the exec listings; a reader's weight
// change is refused; an operator's takes a real server out of the rotation for the next requests
// and is in the audit file; the time keys say why they are off. Skipped without root, /dev/net/tun
// or the built addon (the reason is in the suite's name).
import {type ChildProcess, spawn} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {NO_TIME_CONTROLS} from '../src/dataplane/backend.js';
import {labDown, labUp} from '../src/lab/lab.js';
import {generateEd25519} from '../src/ssh/host-key.js';
import {acquireLabLock, curl, LAB_CONFIG, labSkipReason} from './dataplane-lab.js';
import {type SshClient, sshExec, sshUi, until} from './helpers/ssh-client.js';

const skip = labSkipReason();
const BIN = fileURLToPath(new URL('../bin/lvsdeck.js', import.meta.url));

describe.skipIf(skip !== null)(`lvsdeck serve --dataplane tun in the lab${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-serve-dp-'));
  const operator = generateEd25519('alice');
  const reader = generateEd25519('bob');
  const pubOf = (k: {public: string}) => k.public.split(' ').slice(0, 2).join(' ');
  const audit = join(dir, 'audit.jsonl');
  const clients: SshClient[] = [];
  let server: ChildProcess | null = null;
  let serverLog = '';
  let port = 0;
  let unlock: (() => void) | null = null;

  beforeAll(async () => {
    unlock = await acquireLabLock();
    if (!unlock) throw new Error('the lab is held by another run for over 3 minutes (/run/lvsdeck-lab.lock)');
    await labUp(3);
    writeFileSync(join(dir, 'authorized_keys'), `environment="LVSDECK_ROLE=operator" ${pubOf(operator)} alice\n${pubOf(reader)} bob\n`);
    const status = join(dir, 'status.json');
    server = spawn(process.execPath, [BIN, 'serve', '--dataplane', 'tun', '--config', LAB_CONFIG, '--ssh', '127.0.0.1:0',
      '--host-key', join(dir, 'host_key'), '--authorized-keys', join(dir, 'authorized_keys'), '--audit-file', audit, '--status-file', status],
    {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, CI: ''}});
    server.stderr!.on('data', (d: Buffer) => { serverLog += d; });
    server.stdout!.resume();
    await until(() => existsSync(status) || server!.exitCode !== null, 30_000);
    expect(existsSync(status), serverLog).toBe(true);
    const s = JSON.parse(readFileSync(status, 'utf8')) as {listen: {port: number}; backend: string};
    expect(s.backend).toBe('dataplane');
    port = s.listen.port;
  }, 240_000);

  afterAll(async () => {
    for (const c of clients) c.destroy();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    try { labDown(); } finally { unlock?.(); }
    rmSync(dir, {recursive: true, force: true});
  }, 60_000);

  const ui = (key: {private: string}) => sshUi(port, clients, key, {waitMs: 10_000, log: () => serverLog});

  /** Entries of -Lnc (over ssh exec: the director's live engine) whose real server is `rs`. */
  const entriesTo = async (c: SshClient, rs: string) =>
    (await sshExec(c, 'ipvsadm -Lnc')).stdout.split('\n').filter((l) => l.includes(' 198.18.0.10:80 ') && l.trim().endsWith(`${rs}:80`)).length;

  it('real connections in the UI; a reader is refused; an operator quiesces a real server for real; time keys say why not', async () => {
    for (let i = 0; i < 3; i++) expect(await curl('http://198.18.0.10/')).not.toBe('');
    const a = await ui(operator);
    await a.waitFor(/alice: operator role .* real data plane on lvs-tun0 in namespace lvs-director/);
    a.type('3');
    await a.waitFor(/198\.18\.0\.10:80[\s\S]*TIME_WAIT|TIME_WAIT[\s\S]*198\.18\.0\.10:80/);

    const b = await ui(reader);
    await b.waitFor(/bob: reader role/);
    b.type(':-e -t 198.18.0.10:80 -r 198.18.2.11:80 -m -w 0\r');
    await b.waitFor(/refused: needs the operator role \(bob is a reader\)/);

    a.type(':-e -t 198.18.0.10:80 -r 198.18.2.11:80 -m -w 0\r');
    await a.waitFor(/ipvsadm -e -t 198\.18\.0\.10:80 -r 198\.18\.2\.11:80 -m -w 0/);
    const [before11, before12] = [await entriesTo(b.c, '198.18.2.11'), await entriesTo(b.c, '198.18.2.12')];
    for (let i = 0; i < 4; i++) expect(await curl('http://198.18.0.10/')).not.toBe('');
    // rr over the two left: none of the new connections goes to the quiesced server
    expect(await entriesTo(b.c, '198.18.2.11')).toBe(before11);
    expect(await entriesTo(b.c, '198.18.2.12')).toBe(before12 + 2);

    a.type(' ');
    await a.waitFor(new RegExp(NO_TIME_CONTROLS));

    const changes = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.event === 'change');
    expect(changes.map((e) => [e.user, e.op, e.outcome])).toEqual([
      ['bob', 'edit-dest', 'refused'], ['alice', 'edit-dest', 'ok'], ['alice', 'pause', 'failed'],
    ]);
    expect(changes[1]).toMatchObject({change: 'weight 1 → 0', from: expect.stringMatching(/^ssh 127\.0\.0\.1:/)});
  }, 120_000);
});
