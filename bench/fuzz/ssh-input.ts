// Shared by the ssh fuzz targets (bench/fuzz/targets/ssh-*.ts): what an ssh client can type
// into a session, split into the (input, Key) events Ink hands useInput, and a fresh session
// world (the demo engine, a backend, the shared audit log) per case so that any case replays alone.
import type {Key} from 'ink';
import {buildDemo, DEMO_MEMORY} from '../../src/demo/default-config.js';
import {runIpvsadm} from '../../src/ipvsadm/exec.js';
import {AuditLog, type Role} from '../../src/store/actions.js';
import {LocalBackend, ManualClock} from '../../src/store/backend.js';
import {UiSession} from '../../src/store/session.js';
import {INPUT_LIMITS} from '../../src/ssh/tty.js';
import {charKey} from '../../src/ui/keys.js';
import {type Rng, chance, int, pick, randomText} from './mutate.js';

const NO_KEY = charKey('');

/** Escape sequences a terminal sends, with the Key Ink makes of them. */
const SEQUENCES: [string, Partial<Key>][] = [
  ['\x1b[A', {upArrow: true}], ['\x1b[B', {downArrow: true}], ['\x1b[C', {rightArrow: true}], ['\x1b[D', {leftArrow: true}],
  ['\x1b[5~', {pageUp: true}], ['\x1b[6~', {pageDown: true}], ['\x1b[H', {home: true}], ['\x1b[F', {end: true}],
  ['\x1b[Z', {tab: true, shift: true}], ['\x1b', {escape: true}], ['\x1b[3~', {delete: true}], ['\x1bOA', {upArrow: true}],
  ['\x1b[1;5A', {upArrow: true, ctrl: true}], ['\x1b[1;3B', {downArrow: true, meta: true}],
];

/** Keys and typed text an operator (or an attacker) would send. */
const WORDS = [
  '1', '2', '3', '4', '5', '6', '7', '8', 'j', 'k', 'g', 'G', 'J', 'K', '/', ':', '?', 'q', 'n', 'N', 'e', 'd', 'z', 'r',
  'x', '+', '-', '=', 'a', 't', 's', 'S', 'f', 'p', ' ', '.', 'Z', 'C', 'm', 'b', 'y', 'Y', '\r', '\t', '\x7f', '\x08',
  '\x15', '\x03', '\x04', '\x1a', '\x00',
  ':set-tunable drop_entry 3\r', ':set-tunable amemthresh 1e99\r', ':view audit\r', ':speed 1000\r', ':pause\r',
  ':attack synflood 10.0.0.1:80 1e9\r', ':--start-daemon master\r', ':step 1e9\r', ':zero\r', '/10.1.0\r',
  ':set-tunable \x1b[2J\x9b1m\u202e 1\r', '\x1b[200~pasted text\x1b[201~', 'ñ', '😀', '\ud800', '\u202e',
];

/** A paste as the server's input throttle hands it over: INPUT_LIMITS.perTick characters at a time. */
function pieces(text: string): string[] {
  const cps = [...text];
  const out: string[] = [];
  for (let i = 0; i < cps.length; i += INPUT_LIMITS.perTick) out.push(cps.slice(i, i + INPUT_LIMITS.perTick).join(''));
  return out;
}

/** A sequence of (input, key) events: known keys, words, random control and escape soup, long pastes. */
export function keyEvents(rng: Rng): {input: string; key: Key}[] {
  const out: {input: string; key: Key}[] = [];
  const n = 1 + int(rng, 4);
  for (let i = 0; i < n; i++) {
    const r = rng();
    if (r < 0.5) {
      const w = pick(rng, WORDS);
      // Ink hands a typed run over as one event, a control character as its letter with ctrl
      const code = w.charCodeAt(0);
      if (w.length === 1 && code >= 1 && code <= 26 && w !== '\r' && w !== '\t' && w !== '\x08') {
        out.push({input: String.fromCharCode(code + 96), key: {...NO_KEY, ctrl: true}});
      } else out.push({input: w, key: charKey(w)});
    } else if (r < 0.75) {
      const [seq, k] = pick(rng, SEQUENCES);
      out.push({input: chance(rng, 0.5) ? '' : seq.replace(/^\x1b/, ''), key: {...NO_KEY, ...k}});
    } else if (r < 0.95) {
      // any combination of flags Ink could set, with any text
      const key = {...NO_KEY};
      const flags = key as unknown as Record<string, unknown>;
      for (const f of Object.keys(flags)) if (typeof flags[f] === 'boolean' && chance(rng, 0.08)) flags[f] = true;
      out.push({input: randomText(rng, int(rng, 8)), key});
    } else {
      // a paste: megabyte-class input is cut by the input throttle and the buffer bound
      const paste = (chance(rng, 0.5) ? ':' : '') + randomText(rng, 1 + int(rng, 200));
      for (const p of pieces(paste)) out.push({input: p, key: NO_KEY});
    }
  }
  return out;
}

export interface SessionWorld {
  sim: ReturnType<typeof buildDemo>;
  backend: LocalBackend;
  audit: AuditLog;
  session: UiSession;
  role: Role;
  /** ipvsadm -Sn and the tunables: what a reader must never change. */
  config(): string;
}

export function sessionWorld(rng: Rng, size = {cols: 100, rows: 30}): SessionWorld {
  const sim = buildDemo(1 + int(rng, 3), DEMO_MEMORY);
  const backend = new LocalBackend(sim, new ManualClock(sim));
  const audit = new AuditLog(1000, {refusalCapacity: 200});
  const role = pick(rng, ['reader', 'reader', 'operator', 'admin'] as const);
  const session = new UiSession({backend, audit, size, user: 'fuzz', role, sessionId: 1, from: 'ssh 192.0.2.1:2222'});
  const config = () => runIpvsadm(sim.engine, ['-S', '-n']).stdout + JSON.stringify(backend.tunables().map((t) => [t.name, t.value]));
  return {sim, backend, audit, session, role, config};
}
