// Input builders shared by the fuzz targets: picks from dictionaries of meaningful tokens, the
// values that break parsers (huge, negative, fractional, non-finite, wrong type), and mutations
// of text, bytes and JSON trees.
import {Engine} from '../../src/engine/engine.js';

export type Rng = () => number;

export const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
export const chance = (rng: Rng, p: number): boolean => rng() < p;
export function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[int(rng, xs.length)]!;
}

/** A fresh engine, small so that a case costs little to set up. */
export const smallEngine = (): Engine => new Engine({seed: 1, connTabBits: 8, logCapacity: 16});

export const NUMBER_TEXTS = [
  '0', '1', '-1', '2', '7', '65535', '65536', '70000', '4294967295', '4294967296', '2147483647', '-2147483648',
  '1.5', '1e9', '1e99', '-5', '0x10', '010', '', ' ', 'NaN', 'Infinity', '-0', '9'.repeat(40), 'abc', '1,2', '1 2',
];

export const ADDRESS_TEXTS = [
  '192.0.2.1', '198.51.100.1', '10.1.0.2', '0.0.0.0', '255.255.255.255', '127.0.0.1', '224.0.0.81', '::', '::1',
  '2001:db8::1', '[2001:db8::1]', 'fe80::1%eth0', '1.2.3', '1.2.3.4.5', '256.1.1.1', 'localhost', 'eth0', '',
];

/** A number-ish, address-ish or garbage value as text. */
export function valueText(rng: Rng): string {
  switch (int(rng, 6)) {
    case 0: case 1: return pick(rng, NUMBER_TEXTS);
    case 2: return pick(rng, ADDRESS_TEXTS);
    case 3: return `${pick(rng, ADDRESS_TEXTS)}:${pick(rng, NUMBER_TEXTS)}`;
    case 4: return String(int(rng, 2 ** 32) - 2 ** 31);
    default: return randomText(rng, int(rng, 12));
  }
}

const ODD_CHARS = ['\0', '\n', '\r', '\t', '\x1b', '"', "'", '\\', '#', ':', '-', '=', '[', ']', '{', '}', ',', ' ', 'é', '\u202e', '\ud800', '😀'];

export function randomText(rng: Rng, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += chance(rng, 0.3) ? pick(rng, ODD_CHARS) : String.fromCharCode(32 + int(rng, 95));
  return s;
}

/** 1..n edits of a text: delete, duplicate or move a span, insert a token or odd character, truncate. */
export function mutateText(rng: Rng, text: string, tokens: readonly string[], maxEdits = 4): string {
  let s = text;
  const edits = 1 + int(rng, maxEdits);
  for (let e = 0; e < edits; e++) {
    const at = int(rng, s.length + 1);
    const span = 1 + int(rng, Math.min(40, s.length + 1));
    switch (int(rng, 7)) {
      case 0: s = s.slice(0, at) + s.slice(at + span); break;
      case 1: s = s.slice(0, at) + s.slice(at, at + span) + s.slice(at); break;
      case 2: s = s.slice(0, at) + pick(rng, tokens) + s.slice(at); break;
      case 3: s = s.slice(0, at) + pick(rng, ODD_CHARS) + s.slice(at + (chance(rng, 0.5) ? 1 : 0)); break;
      case 4: s = s.slice(0, at); break;
      case 5: {
        const from = int(rng, s.length + 1);
        s = s.slice(0, at) + s.slice(from, from + span) + s.slice(at);
        break;
      }
      default: s = s.slice(0, at) + valueText(rng) + s.slice(at + int(rng, 8));
    }
  }
  return s;
}

/** Bit flips, byte stores, truncation and extension of a byte string. */
export function mutateBytes(rng: Rng, bytes: Uint8Array): Uint8Array {
  let b = Uint8Array.from(bytes);
  const edits = 1 + int(rng, 6);
  for (let e = 0; e < edits; e++) {
    switch (int(rng, 5)) {
      case 0: if (b.length) b[int(rng, b.length)]! ^= 1 << int(rng, 8); break;
      case 1: if (b.length) b[int(rng, b.length)] = pick(rng, [0, 1, 0x7f, 0x80, 0xff, int(rng, 256)]); break;
      case 2: b = b.subarray(0, int(rng, b.length + 1)); break;
      case 3: {
        const extra = new Uint8Array(int(rng, 64)).map(() => int(rng, 256));
        const out = new Uint8Array(b.length + extra.length);
        out.set(b);
        out.set(extra, b.length);
        b = out;
        break;
      }
      default: if (b.length > 4) b.copyWithin(int(rng, b.length), int(rng, b.length), int(rng, b.length));
    }
  }
  return b;
}

/** A JSON-able value of any type, leaning toward the ones a validator must refuse. */
export function oddValue(rng: Rng, depth = 0): unknown {
  switch (int(rng, depth > 2 ? 9 : 11)) {
    case 0: return null;
    case 1: return chance(rng, 0.5);
    case 2: return pick(rng, [0, -1, 1, 1.5, 65535, 65536, 70000, 2 ** 31, 2 ** 32, 2 ** 53, 1e308, -1e308, -0]);
    case 3: return int(rng, 2 ** 32);
    case 4: return valueText(rng);
    case 5: return pick(rng, ['tcp', 'udp', 'sctp', 'masq', 'route', 'tunnel', 'local', 'bogus', 'rr', 'wlc', 'master', 'backup', '__proto__', 'constructor']);
    case 6: return randomText(rng, int(rng, 20));
    case 7: return '9'.repeat(1 + int(rng, 400));
    case 8: return '';
    case 9: return Array.from({length: int(rng, 4)}, () => oddValue(rng, depth + 1));
    default: return Object.fromEntries(Array.from({length: int(rng, 4)}, () => [pick(rng, ['a', 'weight', 'port', '__proto__', 'x']), oddValue(rng, depth + 1)]));
  }
}

/** Replace, delete or duplicate 1..3 nodes of a JSON tree (the input is not modified). */
export function mutateJson(rng: Rng, value: unknown): unknown {
  let root = structuredClone(value);
  const edits = 1 + int(rng, 3);
  for (let e = 0; e < edits; e++) {
    const nodes: {parent: Record<string, unknown> | unknown[]; key: string | number}[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach((x, i) => { nodes.push({parent: v, key: i}); walk(x); });
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { nodes.push({parent: v as Record<string, unknown>, key: k}); walk(x); }
    };
    walk(root);
    if (nodes.length === 0) { root = oddValue(rng); continue; }
    const n = pick(rng, nodes);
    const p = n.parent as Record<string | number, unknown>;
    switch (int(rng, 4)) {
      case 0:
        if (Array.isArray(p)) p.splice(n.key as number, 1);
        else delete p[n.key];
        break;
      case 1:
        if (Array.isArray(p)) p.push(structuredClone(p[n.key as number]));
        else p[`${String(n.key)}`] = structuredClone(pick(rng, nodes).parent);
        break;
      default: p[n.key] = oddValue(rng);
    }
  }
  return root;
}
