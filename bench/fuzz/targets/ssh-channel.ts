// An ssh session as the server sees it, below the network: the session requests ssh2 hands
// SshServer (pty with any size, env, signal, window-change, shell, exec) and, once the UI runs,
// raw bytes arriving on the channel in pieces cut anywhere (inside escape sequences and UTF-8
// characters), with window changes in between (0, negative numbers read as uint32, 2^31, huge,
// not numbers). The real path runs: SshServer's request handlers, the pty clamp and resize
// throttle, the input throttle, Ink's stdin and keypress parser, the session's key handling and
// rendering, the exec listings, and the close. Checked per case: nothing throws (an exception in
// an event handler is caught here), Ink never exits on an error, the terminal the UI draws stays
// within PTY_BOUNDS, a reader changes nothing, and a closed session leaves no session, no
// channel and no timer behind.
import {Duplex, Writable} from 'node:stream';
import {EventEmitter} from 'node:events';
import type {Connection, Session} from 'ssh2';
import {buildDemo, DEMO_MEMORY} from '../../../src/demo/default-config.js';
import {runIpvsadm} from '../../../src/ipvsadm/exec.js';
import type {Role} from '../../../src/store/actions.js';
import type {AuthorizedKey} from '../../../src/ssh/authorized-keys.js';
import {DeckHost} from '../../../src/ssh/host.js';
import {generateEd25519} from '../../../src/ssh/host-key.js';
import {PTY_BOUNDS, TokenBucket} from '../../../src/ssh/limits.js';
import {SshServer} from '../../../src/ssh/server.js';
import {type InputLimits} from '../../../src/ssh/tty.js';
import {type Rng, chance, int, mutateText, pick, randomText, valueText} from '../mutate.js';

/**
 * The input throttle without its wall-clock rate: every piece the case sends is handed to Ink as
 * it arrives (the pieces are cut here the way the throttle would cut them, and anywhere else), so
 * a case costs no 25 ms ticks. The throttle's rate and bounds have their own tests.
 */
const UNTHROTTLED: InputLimits = {burst: 1e12, perSec: 1e12, perTick: 1e12, tickMs: 0, maxQueued: 1e12};

// one server and host for every case: each case opens its own session and must leave none behind
const sim = buildDemo(1, DEMO_MEMORY);
sim.runUntil(2000);
const host = new DeckHost({sim, fps: 10});
const server = new SshServer(host, {
  host: '127.0.0.1', port: 0, hostKey: Buffer.from(generateEd25519('fuzz host').private),
  authorizedKeysPath: '/nonexistent', maxSessions: 4, maxPerKey: 4, maxConns: 4, authTries: 6, loginGraceMs: 20_000,
  limiter: {burst: 10, refillPerSec: 1 / 30, cooldownMs: 60_000}, exec: true, log: () => {}, event: () => {}, inputLimits: UNTHROTTLED,
});
// the first session loads and compiles the UI (Ink, yoga): not a case's cost
{
  const out = Object.assign(new Writable({write: (_c, _e, cb) => cb()}), {isTTY: true, columns: 400, rows: 150});
  const stdin = Object.assign(new Duplex({read() {}, write: (_c, _e, cb) => cb()}), {isTTY: true, setRawMode() {}, ref() {}, unref() {}});
  const h = host.attach({identity: {user: 'warm-up', role: 'reader', from: 'fuzz'}, stdout: out as never, stdin: stdin as never});
  host.close(h, 'warm-up');
}
const config = () => runIpvsadm(sim.engine, ['-S', '-n']).stdout + JSON.stringify(host.backend.tunables().map((t) => [t.name, t.value]));

/** Terminal sizes a client can put in a pty or window-change request (uint32 on the wire; ssh2 hands numbers over). */
const SIZES: unknown[] = [0, 1, 2, 24, 80, 150, 151, 400, 401, 1000, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, -1, -80, 1.5,
  NaN, Infinity, -Infinity, 1e308, '80', null, undefined, {}];
const size = (rng: Rng): unknown => (chance(rng, 0.7) ? pick(rng, SIZES) : int(rng, 2 ** 32));

/** What a terminal sends: keys, escape sequences (CSI, SS3, OSC, DCS, bracketed paste, mouse), UTF-8 and bare bytes. */
const KEYS = [
  '\x1b[A', '\x1b[B', '\x1b[C', '\x1b[D', '\x1bOA', '\x1bOP', '\x1b[5~', '\x1b[6~', '\x1b[H', '\x1b[F', '\x1b[Z', '\x1b[3~',
  '\x1b[1;5A', '\x1b[1;3B', '\x1b[200~', '\x1b[201~', '\x1b]0;title\x07', '\x1b]52;c;AAAA\x1b\\', '\x1bP1$r\x1b\\',
  '\x1b[<0;10;5M', '\x1b[M !!', '\x1b[?1;2c', '\x1b[12;40R', '\x1b[999999999999;1H', '\x1b[' + '9'.repeat(30) + 'A', '\x1b\x1b',
  '\x1b', '\x1bq', '\x1b[', '\x1b[1;', '\x9b1m', '\r', '\n', '\r\n', '\t', '\x7f', '\x08', '\x00', '\x03', '\x04', '\x15', '\x1a',
  'q', 'Q', ':', '/', '?', '1', '2', '3', '4', '5', '6', '7', '8', 'j', 'k', 'g', 'G', 'n', 'N', 'd', 'e', 'p', 's', 'z', 'r',
  'x', '+', '-', 'a', ' ', '.', '<', '>', 'ñ', '😀', '\u202e',
  ':set-tunable drop_entry 3\r', ':view audit\r', ':speed 1000\r', ':ipvsadm -C\r', '/10.1.0\r', ':help\r', ':quit\r',
];

/** A byte stream: keys and text, sometimes with bytes flipped, truncated, or random bytes outright. */
function stream(rng: Rng): Buffer {
  let text = '';
  const n = 1 + int(rng, 12);
  for (let i = 0; i < n; i++) {
    // 'q' and ctrl-c end the session: mostly leave them to the end of the stream
    const k = pick(rng, KEYS);
    text += (k === 'q' || k === '\x03' || k === ':quit\r') && chance(rng, 0.8) ? '' : k;
    if (chance(rng, 0.1)) text += randomText(rng, int(rng, 40));
  }
  // a paste into the command bar just past its bound (MAX_INPUT_CHARS, 1024): longer only costs more renders
  if (chance(rng, 0.05)) text = `:${randomText(rng, 1000 + int(rng, 200))}`;
  let bytes = Buffer.from(text, 'utf8');
  if (chance(rng, 0.2)) {
    bytes = Buffer.from(bytes);
    for (let e = 1 + int(rng, 4); e > 0 && bytes.length; e--) bytes[int(rng, bytes.length)] = int(rng, 256);
  }
  if (chance(rng, 0.1)) bytes = Buffer.concat([bytes, Buffer.from(Array.from({length: int(rng, 64)}, () => int(rng, 256)))]);
  return bytes;
}

/**
 * Cut a stream into the pieces the channel delivers: single bytes, the throttle's 32, or anywhere.
 * Every piece costs a render of the UI (up to 400x150), so a long stream comes as the throttle
 * hands it over, 32 at a time: smaller pieces past a few hundred bytes only repeat what its first
 * bytes did, at a cost in proportion.
 */
function pieces(rng: Rng, b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const mode = b.length > 256 ? 1 : int(rng, 3);
  for (let i = 0; i < b.length;) {
    const len = mode === 0 ? 1 : mode === 1 ? 32 : 1 + int(rng, 16);
    out.push(b.subarray(i, i + len));
    i += len;
  }
  return out;
}

/** The parts of ssh2's ServerChannel the server uses: a duplex (client bytes in, frames out), stderr, exit. */
class FakeChannel extends Duplex {
  written = 0;
  exitCode: number | null | undefined;
  readonly stderr = new Writable({write: (c: Buffer | string, _e, cb) => { this.written += c.length; cb(); }});
  override _read(): void { /* the case pushes the client's bytes */ }
  override _write(c: Buffer | string, _e: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.written += c.length;
    cb();
  }
  exit(code: number): void { this.exitCode = code; }
  close(): void { this.destroy(); }
}

type Handler = (accept: (() => unknown) | undefined, reject: (() => void) | undefined, info: Record<string, unknown>) => void;

function fakeKey(rng: Rng, role: Role): AuthorizedKey {
  return {
    line: 1, type: 'ssh-ed25519', blob: Buffer.alloc(0), fingerprint: `SHA256:fuzz${int(rng, 3)}`, parsed: null as never, comment: '',
    name: 'fuzz', role, options: [], env: {}, from: null, noPty: chance(rng, 0.05),
    command: chance(rng, 0.03) ? pick(rng, ['ipvsadm -Ln', 'who', 'bogus']) : null, expires: null,
  } as AuthorizedKey;
}

const EXEC_LINES = ['ipvsadm -Ln', 'ipvsadm -Lnc', 'sysctl -a', 'who', 'audit', 'help', '', 'ipvsadm -C', 'x'.repeat(5000)];
const tick = () => new Promise<void>((r) => setImmediate(r));
const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const baseTimeouts = timeouts();

export default {
  name: 'ssh-channel',
  // every case opens a session and draws its UI (about 0.1 s of CPU): the smoke runs fewer
  smokeCases: 50,
  caseLimitMs: 30_000,
  async run(rng: Rng): Promise<void> {
    let thrown: unknown = null;
    const onUncaught = (err: unknown) => { thrown ??= err; };
    process.on('uncaughtException', onUncaught);
    const role = pick(rng, ['reader', 'reader', 'operator', 'admin'] as const);
    const before = role === 'reader' ? config() : '';
    const key = fakeKey(rng, role);
    const st = {
      sock: {writableLength: 0}, ip: '192.0.2.1', port: 2222, from: 'ssh 192.0.2.1:2222', key, channels: new Set(), handles: new Set(),
      execs: new TokenBucket(20, 5),
    };
    const session = new EventEmitter();
    const channels: FakeChannel[] = [];
    const request = (name: string, info: Record<string, unknown> = {}) => {
      for (const h of session.listeners(name) as Handler[]) {
        h(() => { const c = new FakeChannel(); channels.push(c); return c; }, () => {}, info);
      }
    };
    try {
      (server as unknown as {onSession(c: Connection, st: unknown, s: Session): void}).onSession({} as Connection, st, session as Session);
      // requests before the shell, in any order
      for (let r = int(rng, 4); r > 0; r--) {
        switch (int(rng, 4)) {
          case 0: request('pty', {cols: size(rng), rows: size(rng), term: chance(rng, 0.9) ? 'xterm-256color' : randomText(rng, int(rng, 200))}); break;
          case 1: request('window-change', {cols: size(rng), rows: size(rng)}); break;
          case 2: request('env', {key: 'LANG', val: randomText(rng, 8)}); break;
          default: request('signal', {name: 'INT'});
        }
      }
      if (chance(rng, 0.15)) {
        const line = chance(rng, 0.5) ? pick(rng, EXEC_LINES) : mutateText(rng, pick(rng, EXEC_LINES), [' ', '-', '\x00', '\x1b', valueText(rng)]);
        request('exec', {command: line});
      } else {
        if (chance(rng, 0.9) && !key.noPty) request('pty', {cols: size(rng), rows: size(rng), term: 'xterm'});
        request('shell');
        const ch = channels.at(-1);
        const ui = host.sessions.at(-1);
        if (ch && ui) {
          const exited = ui.instance.waitUntilExit().then(() => null, (err: unknown) => err);
          // window changes and engine steps between pieces, a few per case (each redraws the whole UI)
          let resizes = int(rng, 6), steps = int(rng, 3);
          for (const piece of pieces(rng, stream(rng))) {
            ch.push(piece);
            if (resizes > 0 && chance(rng, 0.2)) {
              resizes--;
              request('window-change', {cols: size(rng), rows: size(rng)});
            }
            if (steps > 0 && chance(rng, 0.1)) {
              steps--;
              sim.advance(int(rng, 1000));
              host.publish();
            }
            await tick();
            const {cols, rows} = ui.session.state.size;
            if (!(cols >= PTY_BOUNDS.minCols && cols <= PTY_BOUNDS.maxCols && rows >= PTY_BOUNDS.minRows && rows <= PTY_BOUNDS.maxRows)) {
              throw new Error(`the UI draws at ${cols}x${rows}, outside ${PTY_BOUNDS.maxCols}x${PTY_BOUNDS.maxRows}`);
            }
            if (ui.closed) break;
          }
          if (!ui.closed) ch.destroy(); // the client disconnects
          await tick();
          const err = await exited;
          if (err) throw err instanceof Error ? err : new Error(`Ink exited with ${String(err)}`);
        }
      }
      await tick();
      for (const c of channels) c.destroy();
      await tick();
      if (thrown) throw thrown;
      if (host.sessions.length || host.presence.size) throw new Error(`${host.sessions.length} sessions left open after the channel closed`);
      if (st.channels.size) throw new Error(`${st.channels.size} channels still tracked after they closed`);
      if (role === 'reader' && config() !== before) throw new Error('a reader changed the configuration');
      // the resize throttle's last timer may still run (RESIZE_INTERVAL_MS); anything beyond is a leak
      if (timeouts() > baseTimeouts + 2) throw new Error(`${timeouts() - baseTimeouts} timers left behind`);
    } finally {
      process.off('uncaughtException', onUncaught);
      for (const h of host.sessions) host.close(h, 'fuzz case over');
    }
  },
};
