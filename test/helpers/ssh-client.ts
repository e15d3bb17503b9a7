// ssh2's own client against an in-process `lvsdeck serve` on 127.0.0.1: connect with a key, run an
// exec request, open a shell (the UI) and collect what it draws.
import ssh2 from 'ssh2';
import type {ClientChannel} from 'ssh2';
import {stripAnsi} from '../../src/ui/charts.js';

const {Client} = ssh2;
export type SshClient = InstanceType<typeof Client>;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

/** Connect to 127.0.0.1:port; every client made is pushed to `track` (for the test's cleanup). */
export function sshConnect(port: number, track: SshClient[], o: {privateKey?: string; password?: string; tryKeyboard?: boolean} = {}): Promise<SshClient> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    track.push(c);
    c.on('ready', () => resolve(c)).on('error', reject).on('close', () => reject(new Error('closed')));
    c.connect({host: '127.0.0.1', port, username: 'whoever', readyTimeout: 5000, hostVerifier: () => true, ...o});
  });
}

export function sshExec(c: SshClient, cmd: string): Promise<{stdout: string; stderr: string; code: number | null}> {
  return new Promise((resolve, reject) => {
    c.exec(cmd, (err, ch) => {
      if (err) return reject(err);
      let stdout = '', stderr = '';
      let code: number | null = null;
      ch.on('data', (d: Buffer) => { stdout += d; });
      ch.stderr.on('data', (d: Buffer) => { stderr += d; });
      ch.on('exit', (c2: number | null) => { code = c2; });
      ch.on('close', () => resolve({stdout, stderr, code}));
    });
  });
}

/** A shell channel with a pty of cols x rows (cols 0: no pty at all). */
export function sshShell(c: SshClient, cols = 100, rows = 30): Promise<{ch: ClientChannel; out: () => string; exit: Promise<number | null>}> {
  return new Promise((resolve, reject) => {
    c.shell(cols ? {term: 'xterm-256color', cols, rows} : false, (err, ch) => {
      if (err) return reject(err);
      let out = '';
      ch.on('data', (d: Buffer) => { out += d; });
      ch.stderr.on('data', (d: Buffer) => { out += d; });
      const exit = new Promise<number | null>((r) => {
        let code: number | null = null;
        ch.on('exit', (x: number | null) => { code = x; });
        ch.on('close', () => r(code));
      });
      resolve({ch, out: () => out, exit});
    });
  });
}

/**
 * A UI session over ssh (a 160x40 pty): `type` sends keys and sets a mark; `waitFor` waits for text
 * the UI draws after the mark (ANSI stripped), and on time-out says what it saw (and `log()`, if given).
 */
export async function sshUi(port: number, clients: SshClient[], key: {private: string},
  o: {waitMs?: number; log?: () => string} = {}) {
  const c = await sshConnect(port, clients, {privateKey: key.private});
  const sh = await sshShell(c, 160, 40);
  let mark = 0;
  const since = () => stripAnsi(sh.out().slice(mark));
  return {
    c, sh,
    type: (text: string) => { mark = sh.out().length; sh.ch.write(text); },
    waitFor: (re: RegExp, ms = o.waitMs ?? 15_000) => until(() => re.test(since()), ms).catch(() => {
      throw new Error(`no ${re} in:\n${since().slice(-3000)}${o.log ? `\nserver log:\n${o.log().slice(-1000)}` : ''}`);
    }),
  };
}
