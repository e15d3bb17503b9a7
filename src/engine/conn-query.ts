// The UI's window onto the connection table: filter, sort and page a million entries without
// building an object per entry. Filters compile to one flat numeric test where the text allows
// it (an address, addr:port, a port, a protocol or a state name); anything else falls back to a
// substring match on the entry's label. Sorting keeps only the top offset+limit keys in a bounded
// heap, so a 40-row window costs one pass over the table, or less:
//  - when the total is known without testing every entry (no filter, the template switch, one
//    state name: the engine's per-state tally) and matches are common, the scan reads the sort
//    key first and tests the filter only on an entry that would enter the window;
//  - otherwise the filter comes first, its inner loop reading one field (an address word, the
//    dest) where the filter allows;
//  - soonest expiry first walks the timer wheel from now and stops once no later slot can enter;
//  - a deep page (offset+limit over 8192) selects its first and last key instead of a heap.
// Order: by the sort key (descending if asked), ties by slot, ascending, in either direction.
// Fields are read through ConnTable's per-slot accessors only, never its arrays.
import {type Addr, foldAddr, parseAddr, parseAddrPort} from './addr.js';
import {CONN_F, IPPROTO_IP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP} from './constants.js';
import type {ConnTable} from './conn-table.js';
import {SCTP_STATE_NAMES} from './proto/sctp.js';
import {TCP_STATE_NAMES} from './proto/tcp.js';

export type ConnSortKey = 'proto' | 'client' | 'virtual' | 'real' | 'state' | 'expires' | 'inpkts' | 'outpkts';

export type TemplateSwitch = 'include' | 'exclude' | 'only';

export interface ConnQuery {
  /** An address, addr:port, port, protocol or state name; otherwise a case-insensitive substring. */
  text?: string;
  state?: string;
  destId?: number;
  templates?: TemplateSwitch;
  sort?: ConnSortKey;
  desc?: boolean;
  offset?: number;
  limit?: number;
}

export interface QueryHost {
  readonly table: ConnTable;
  connLabel(i: number): string;
  stateName(i: number): string;
  /** Live entries whose state name is `name` under the template switch, or -1 when not known exactly. */
  stateCount(name: string, templates: TemplateSwitch): number;
}

type Pred = (i: number) => boolean;

const PROTOS: Record<string, number> = {tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: IPPROTO_SCTP, ip: IPPROTO_IP};

const STATE_NAMES_BY_PROTO: readonly [number, readonly string[]][] = [
  [IPPROTO_TCP, TCP_STATE_NAMES], [IPPROTO_UDP, ['UDP']], [IPPROTO_SCTP, SCTP_STATE_NAMES],
];

const TPL_NONE = 0, TPL_EXCLUDE = 1, TPL_ONLY = 2;

/**
 * A query's filter in one flat shape, tested by `matches` with no closure call unless the text
 * needs one (an IPv6 address, a substring): one function for every filter keeps the scan loops
 * monomorphic, so V8 inlines the test and the accessors it reads.
 */
interface Filter {
  templates: number;
  /** Only entries bound to this dest (`hasDest`). */
  hasDest: boolean;
  destId: number;
  /** Connections: [proto * 256 + state] = 1 for a wanted state; templates: [state & 1]. Null: any. */
  stateOk: Uint8Array | null;
  tplStateOk: Uint8Array;
  /** The one state name wanted (for the tally's count), or null (none, or two different names). */
  stateName: string | null;
  proto: number;
  /** A port any of the three ports equals, or -1. */
  port: number;
  /** An IPv4 address any of the three addresses equals (IPv4 words), with its port or -1; addr -1: none. */
  addr: number;
  addrPort: number;
  /** The rest (IPv6 address, substring): a closure, or null. */
  other: Pred | null;
}

function emptyFilter(): Filter {
  return {templates: TPL_NONE, hasDest: false, destId: -1, stateOk: null, tplStateOk: new Uint8Array(2), stateName: null,
    proto: -1, port: -1, addr: -1, addrPort: -1, other: null};
}

/** Narrow `f` to entries whose state name is `name` (as stateName() prints it). */
function addState(f: Filter, name: string): void {
  const ok = new Uint8Array(256 * 256);
  for (const [proto, names] of STATE_NAMES_BY_PROTO) {
    names.forEach((n, st) => { if (n === name) ok[proto * 256 + st] = 1; });
  }
  const tplOk = Uint8Array.of(name === 'NONE' ? 1 : 0, name === 'ASSURED' ? 1 : 0);
  if (f.stateOk === null) {
    f.stateOk = ok;
    f.tplStateOk = tplOk;
    f.stateName = name;
    return;
  }
  // an entry has one state name: two names leave what both allow
  for (let k = 0; k < ok.length; k++) f.stateOk[k]! &= ok[k]!;
  f.tplStateOk[0]! &= tplOk[0]!;
  f.tplStateOk[1]! &= tplOk[1]!;
  if (f.stateName !== name) f.stateName = null;
}

function addrClosure(t: ConnTable, a: Addr, port: number | null): Pred {
  const matchAddr = (i: number) =>
    t.clientAddr(i) === a || t.destAddr(i) === a || (!t.isFwmarkTemplate(i) && t.virtualAddr(i) === a);
  if (port === null) return matchAddr;
  return (i) =>
    (t.clientAddr(i) === a && t.clientPortOf(i) === port) || (t.destAddr(i) === a && t.destPortOf(i) === port) ||
    (!t.isFwmarkTemplate(i) && t.virtualAddr(i) === a && t.virtualPortOf(i) === port);
}

/** Add the free-text filter to `f`. */
function addText(host: QueryHost, f: Filter, text: string): void {
  const t = host.table;
  const q = text.trim();
  const lower = q.toLowerCase();
  if (PROTOS[lower] !== undefined) {
    f.proto = PROTOS[lower]!;
    return;
  }
  const upper = q.toUpperCase();
  if (TCP_STATE_NAMES.includes(upper) || SCTP_STATE_NAMES.includes(upper) || upper === 'UDP' ||
      upper === 'NONE' || upper === 'ASSURED') {
    addState(f, upper);
    return;
  }
  if (/^\d{1,5}$/.test(q) && Number(q) < 65536) {
    f.port = Number(q);
    return;
  }
  const ap = parseAddrPort(q);
  const a = ap ? ap.addr : parseAddr(q)?.addr;
  if (a !== undefined) {
    if (typeof a === 'number') {
      f.addr = a;
      f.addrPort = ap ? ap.port : -1;
    } else {
      f.other = addrClosure(t, a, ap ? ap.port : null);
    }
    return;
  }
  f.other = (i) => `${host.connLabel(i)} ${host.stateName(i)}`.toLowerCase().includes(lower);
}

function compileFilter(host: QueryHost, q: ConnQuery): Filter {
  const f = emptyFilter();
  f.templates = q.templates === 'exclude' ? TPL_EXCLUDE : q.templates === 'only' ? TPL_ONLY : TPL_NONE;
  if (q.destId !== undefined) {
    f.hasDest = true;
    f.destId = q.destId;
  }
  if (q.state) addState(f, q.state);
  if (q.text && q.text.trim()) addText(host, f, q.text);
  return f;
}

/** Whether the filter tests nothing but the template switch and states. */
function onlyTemplatesAndState(f: Filter): boolean {
  return !f.hasDest && f.proto === -1 && f.port === -1 && f.addr === -1 && f.other === null;
}

/** The number of matches when the table's counts tell it (no entry tested), else -1. */
function knownTotal(host: QueryHost, f: Filter, q: ConnQuery): number {
  if (!onlyTemplatesAndState(f)) return -1;
  const t = host.table;
  if (f.stateOk === null) {
    return f.templates === TPL_ONLY ? t.templates : f.templates === TPL_EXCLUDE ? t.count - t.templates : t.count;
  }
  return f.stateName === null ? -1 : host.stateCount(f.stateName, q.templates ?? 'include');
}

/** Whether the live-or-free slot `i` holds an entry the filter keeps. */
function matches(t: ConnTable, f: Filter, i: number): boolean {
  return quickMatch(t, f, i) && restMatches(t, f, i);
}

/**
 * The part of the filter the scans' inner loops test inline (small enough for V8 to inline): the
 * IPv4 address words first (three reads reject nearly every entry), the dest, liveness, the
 * template switch and the state.
 */
function quickMatch(t: ConnTable, f: Filter, i: number): boolean {
  if (f.addr !== -1 && t.clientAddrWord(i) !== f.addr && t.virtualAddrWord(i) !== f.addr && t.destAddrWord(i) !== f.addr) {
    return false;
  }
  if ((f.hasDest && t.destIdOf(i) !== f.destId) || t.isFreeSlot(i)) return false;
  if (f.templates === TPL_NONE && f.stateOk === null) return true;
  const template = (t.flagsOf(i) & CONN_F.TEMPLATE) !== 0;
  if (f.templates !== TPL_NONE && template !== (f.templates === TPL_ONLY)) return false;
  return f.stateOk === null ||
    (template ? f.tplStateOk[t.stateOf(i) & 1] : f.stateOk[t.protoOf(i) * 256 + t.stateOf(i)]) === 1;
}

/** The rest of the filter, on an entry `quickMatch` kept. */
function restMatches(t: ConnTable, f: Filter, i: number): boolean {
  if (f.addr !== -1 && !addrMatches(t, f.addr, f.addrPort, i)) return false;
  if (f.proto !== -1 && t.protoOf(i) !== f.proto) return false;
  if (f.port !== -1 && t.clientPortOf(i) !== f.port && t.virtualPortOf(i) !== f.port && t.destPortOf(i) !== f.port) {
    return false;
  }
  return f.other === null || f.other(i);
}

/** An IPv4 address (and port, unless -1) on the client, virtual (not a fwmark) or real side. */
function addrMatches(t: ConnTable, a: number, port: number, i: number): boolean {
  if (t.destAddrWord(i) === a && !t.isDest6(i) && (port === -1 || t.destPortOf(i) === port)) return true;
  if (t.isClient6(i)) return false;
  return (t.clientAddrWord(i) === a && (port === -1 || t.clientPortOf(i) === port)) ||
    (t.virtualAddrWord(i) === a && !t.isFwmarkTemplate(i) && (port === -1 || t.virtualPortOf(i) === port));
}

const K_PROTO = 0, K_CLIENT = 1, K_VIRTUAL = 2, K_REAL = 3, K_STATE = 4, K_EXPIRES = 5, K_INPKTS = 6, K_OUTPKTS = 7;
const KEY_KIND: Record<ConnSortKey, number> = {
  proto: K_PROTO, client: K_CLIENT, virtual: K_VIRTUAL, real: K_REAL, state: K_STATE, expires: K_EXPIRES,
  inpkts: K_INPKTS, outpkts: K_OUTPKTS,
};

/** IPv4 words sort as themselves; IPv6 addresses after all IPv4 ones, by their fold. */
function addrKey(a: Addr): number {
  return typeof a === 'number' ? a : foldAddr(a) + 2 ** 32;
}

/**
 * The sort key of slot `i`, which may be free (a key-first scan reads it before the liveness
 * test): a free slot's family bits are clear, and an IPv6 address is decoded only in a live one.
 */
function keyAt(t: ConnTable, kind: number, i: number): number {
  switch (kind) {
    case K_CLIENT: return (t.isClient6(i) ? v6Key(t, i, 0) : t.clientAddrWord(i)) * 65536 + t.clientPortOf(i);
    case K_EXPIRES: return t.expiresOf(i);
    case K_VIRTUAL: return (t.isClient6(i) ? v6Key(t, i, 1) : t.virtualAddrWord(i)) * 65536 + t.virtualPortOf(i);
    case K_REAL: return (t.isDest6(i) ? v6Key(t, i, 2) : t.destAddrWord(i)) * 65536 + t.destPortOf(i);
    case K_PROTO: return t.protoOf(i);
    case K_STATE: return t.protoOf(i) * 256 + t.stateOf(i) + (t.flagsOf(i) & CONN_F.TEMPLATE ? 65536 : 0);
    case K_INPKTS: return t.inPktsOf(i);
    default: return t.outPktsOf(i);
  }
}


/** An IPv6 address key, out of line (rare): side 0 client, 1 virtual, 2 real. */
function v6Key(t: ConnTable, i: number, side: number): number {
  if (t.isFreeSlot(i)) return 0;
  return addrKey(side === 0 ? t.clientAddr(i) : side === 1 ? t.virtualAddr(i) : t.destAddr(i));
}

/**
 * Bounded max-heap of the k smallest (key, slot) pairs; the top is the worst kept pair, replaced
 * when a better one arrives. Descending orders negate their keys, so the order is always
 * ascending by key, then by slot.
 */
class TopK {
  private readonly keys: Float64Array;
  private readonly ids: Int32Array;
  size = 0;
  constructor(private readonly k: number) {
    this.keys = new Float64Array(k);
    this.ids = new Int32Array(k);
  }

  /** Once full, the worst kept key: a key beyond it can never enter (an equal one may, by slot). */
  get bound(): number {
    return this.size === this.k && this.k > 0 ? this.keys[0]! : Infinity;
  }

  offer(key: number, id: number): void {
    const {keys, ids} = this;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(key, id, keys[p]!, ids[p]!)) break;
        keys[i] = keys[p]!; ids[i] = ids[p]!; i = p;
      }
      keys[i] = key; ids[i] = id;
      return;
    }
    if (this.k === 0 || !worse(keys[0]!, ids[0]!, key, id)) return;
    this.siftDown(key, id, this.size);
  }

  /** Place (key, id) at the top of the first `n` and sift it down. */
  private siftDown(key: number, id: number, n: number): void {
    const {keys, ids} = this;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = -1, mk = key, mi = id;
      if (l < n && worse(keys[l]!, ids[l]!, mk, mi)) { m = l; mk = keys[l]!; mi = ids[l]!; }
      if (r < n && worse(keys[r]!, ids[r]!, mk, mi)) { m = r; }
      if (m < 0) break;
      keys[i] = keys[m]!; ids[i] = ids[m]!; i = m;
    }
    keys[i] = key; ids[i] = id;
  }

  /**
   * Kept slots from rank `offset` on, in output order: popped worst first, so a deep page costs its
   * own rows, not a sort of everything kept. Empties the heap.
   */
  takeFrom(offset: number): number[] {
    const out = new Array<number>(Math.max(0, this.size - offset));
    for (let j = out.length - 1; j >= 0; j--) {
      out[j] = this.ids[0]!;
      const last = --this.size;
      if (last > 0) this.siftDown(this.keys[last]!, this.ids[last]!, last);
    }
    return out;
  }
}

/** (ka, ia) after (kb, ib) in the output order. */
function worse(ka: number, ia: number, kb: number, ib: number): boolean {
  return ka !== kb ? ka > kb : ia > ib;
}

/**
 * One pass over the slots offering every match to `top`, for a total the table's counts tell: an
 * entry's key is compared with the bound before the filter is tested. Slots are scanned upwards:
 * once the window is full an entry whose key equals the worst kept one has a larger slot and
 * loses, so only keys strictly within the bound are candidates. Expiry, descending, scans down
 * instead: slots fill roughly oldest first, so the winners come first and the bound rejects the
 * rest at once (an equal key may then still enter, by its smaller slot).
 */
function scanKeyFirst(t: ConnTable, f: Filter, kind: number, sign: number, top: TopK): void {
  const hw = t.highWater;
  let bound = Infinity;
  if (kind === K_EXPIRES && sign < 0) {
    for (let i = nextExpiresAtLeast(t, -bound, hw - 1); i >= 0; i = nextExpiresAtLeast(t, -bound, i - 1)) {
      if (!matches(t, f, i)) continue;
      top.offer(-t.expiresOf(i), i);
      bound = top.bound;
    }
    return;
  }
  const v6 = t.hasIpv6;
  for (let i = nextWithin(t, kind, sign, v6, bound, 0); i < hw; i = nextWithin(t, kind, sign, v6, bound, i + 1)) {
    const k = sign * keyAt(t, kind, i);
    if (k >= bound || !matches(t, f, i)) continue;
    top.offer(k, i);
    bound = top.bound;
  }
}

/**
 * One pass testing the filter first on every entry: for a total no count tells (returned), or for
 * matches too rare to fill the window early (`known`: their number, the pass stops at the last). Upwards, but down for expiry descending (see
 * scanKeyFirst).
 */
function scanFilterFirst(t: ConnTable, f: Filter, kind: number, sign: number, known: number, top: TopK): number {
  const hw = t.highWater;
  const down = kind === K_EXPIRES && sign < 0;
  const step = down ? -1 : 1, end = down ? -1 : hw;
  let total = 0, bound = Infinity;
  // with the total known (a rare state), the scan stops at the last match
  for (let i = nextCandidate(t, f, down ? hw - 1 : 0, step, end); i !== end && total !== known;
    i = nextCandidate(t, f, i + step, step, end)) {
    if (!matches(t, f, i)) continue;
    total++;
    const k = sign * keyAt(t, kind, i);
    if (down ? k > bound : k >= bound) continue;
    top.offer(k, i);
    bound = top.bound;
  }
  return total;
}

// The scans' inner loops: each tests one key or one filter field inline and nothing else, so V8
// keeps the table's fields in registers (a rarely taken branch into the whole filter, or a key
// read through a switch, makes the loop two to three times slower); the scan tests the rest of
// the filter at each candidate.

/** The next slot from `i` (by `step`, up to `end`) that may match: by its address words, its dest or liveness. */
function nextCandidate(t: ConnTable, f: Filter, i: number, step: number, end: number): number {
  if (f.addr !== -1) {
    const a = f.addr;
    for (; i !== end; i += step) {
      if (t.clientAddrWord(i) === a || t.virtualAddrWord(i) === a || t.destAddrWord(i) === a) return i;
    }
  } else if (f.hasDest) {
    const d = f.destId;
    for (; i !== end; i += step) if (t.destIdOf(i) === d) return i;
  } else {
    for (; i !== end; i += step) if (quickMatch(t, f, i)) return i;
  }
  return end;
}

function nextExpiresAtLeast(t: ConnTable, lim: number, i: number): number {
  for (; i >= 0; i--) if (t.expiresOf(i) >= lim) return i;
  return -1;
}

/**
 * The next slot from `i` whose signed key may be below `bound`, or highWater. Address keys test
 * the address word alone (the key is word * 65536 + port, so this passes a few more than needed,
 * which the scan rejects); an IPv6 address's key is above every IPv4 one and its word is a pool
 * id, so with IPv6 entries in the table a descending order tests the family too.
 */
function nextWithin(t: ConnTable, kind: number, sign: number, v6: boolean, bound: number, i: number): number {
  const hw = t.highWater;
  // descending: -key < bound, i.e. key > -bound
  const lim = sign > 0 ? bound : -bound;
  const word = Math.floor(lim / 65536);
  switch (kind) {
    // (expiry descending scans down: nextExpiresAtLeast)
    case K_EXPIRES: if (sign > 0) return nextExpiresBelow(t, lim, i, hw); break;
    case K_CLIENT:
      if (sign > 0) return nextClientWordAtMost(t, word, i, hw);
      if (!v6) return nextClientWordAtLeast(t, word, i, hw);
      break;
    case K_VIRTUAL:
      if (sign > 0) return nextVirtualWordAtMost(t, word, i, hw);
      if (!v6) return nextVirtualWordAtLeast(t, word, i, hw);
      break;
    case K_REAL:
      if (sign > 0) return nextRealWordAtMost(t, word, i, hw);
      if (!v6) return nextRealWordAtLeast(t, word, i, hw);
      break;
  }
  for (; i < hw; i++) if (sign * keyAt(t, kind, i) < bound) return i;
  return hw;
}

function nextExpiresBelow(t: ConnTable, lim: number, i: number, hw: number): number {
  for (; i < hw; i++) if (t.expiresOf(i) < lim) return i;
  return hw;
}
function nextClientWordAtMost(t: ConnTable, word: number, i: number, hw: number): number {
  for (; i < hw; i++) if (t.clientAddrWord(i) <= word) return i;
  return hw;
}
function nextClientWordAtLeast(t: ConnTable, word: number, i: number, hw: number): number {
  for (; i < hw; i++) if (t.clientAddrWord(i) >= word) return i;
  return hw;
}
function nextVirtualWordAtMost(t: ConnTable, word: number, i: number, hw: number): number {
  for (; i < hw; i++) if (t.virtualAddrWord(i) <= word) return i;
  return hw;
}
function nextVirtualWordAtLeast(t: ConnTable, word: number, i: number, hw: number): number {
  for (; i < hw; i++) if (t.virtualAddrWord(i) >= word) return i;
  return hw;
}
function nextRealWordAtMost(t: ConnTable, word: number, i: number, hw: number): number {
  for (; i < hw; i++) if (t.destAddrWord(i) <= word) return i;
  return hw;
}
function nextRealWordAtLeast(t: ConnTable, word: number, i: number, hw: number): number {
  for (; i < hw; i++) if (t.destAddrWord(i) >= word) return i;
  return hw;
}

/**
 * Soonest expiry first by the timer wheel: slot by slot from the cursor. Every entry linked in a
 * later slot expires at or after that slot's start, so once the worst kept key is below it no
 * later entry can enter. Only valid when every live entry has a pending timer. The walk reads
 * scattered list nodes where a scan reads arrays in order, and an entry whose expiry moved later
 * still waits in its old slot (a new entry's first 3 s timer, ip_vs_conn_new, is re-armed lazily):
 * past `budget` visits it gives up (false) and the caller scans instead.
 */
function wheelWalk(t: ConnTable, f: Filter, top: TopK, budget: number): boolean {
  const from = t.timerCursor, end = from + t.timerWheelSlots;
  let bound = Infinity, visits = 0;
  for (let s = from; s < end; s++) {
    if (s > from && bound < t.timerSlotStart(s)) return true;
    for (let i = t.timerHeadAt(s); i >= 0; i = t.timerNextOf(i)) {
      if (++visits > budget) return false;
      const k = t.expiresOf(i);
      if (k > bound || !matches(t, f, i)) continue;
      top.offer(k, i);
      bound = top.bound;
    }
  }
  return true;
}

/** The wheel walk gives up past 1/128 of the table's entries (a scan's cost is the whole table). */
const WHEEL_WALK_BUDGET_SHIFT = 7;
/** Nor is it tried unless matches are common enough to fill the window early. */
const WHEEL_WALK_MIN_SHARE = 32;

/**
 * A window this deep is found by selection: a heap of offset+limit rows costs a log of that per
 * entry that enters it, and most do.
 */
const DEEP_PAGE = 8192;

/**
 * A deep page: every match's key, the keys at the window's first and last rank by selection, and
 * a sort of only the matches between them. Matches are collected in slot order, so among equal
 * keys the collection order is the slot order.
 */
function selectWindow(t: ConnTable, f: Filter, kind: number, sign: number, offset: number, limit: number):
  {total: number; ids: number[]} {
  const hw = t.highWater;
  const keys = new Float64Array(hw), slots = new Int32Array(hw);
  let n = 0;
  for (let i = nextCandidate(t, f, 0, 1, hw); i < hw; i = nextCandidate(t, f, i + 1, 1, hw)) {
    if (!matches(t, f, i)) continue;
    keys[n] = sign * keyAt(t, kind, i);
    slots[n++] = i;
  }
  const end = Math.min(n, offset + limit);
  if (offset >= end) return {total: n, ids: []};
  const work = keys.slice(0, n);
  const lo = keyAtRank(work, offset), hi = keyAtRank(work, end - 1);
  let before = 0;
  const between: number[] = [];
  for (let j = 0; j < n; j++) {
    const k = keys[j]!;
    if (k < lo) before++;
    else if (k <= hi) between.push(j);
  }
  if (lo !== hi) between.sort((a, b) => keys[a]! - keys[b]! || a - b);
  return {total: n, ids: between.slice(offset - before, end - before).map((j) => slots[j]!)};
}

/**
 * The value at rank `r` of `a` in ascending order (quickselect; reorders `a`). The pivot is the
 * median of three, not a random draw: the engine draws no random numbers outside its seeded rng.
 */
function keyAtRank(a: Float64Array, r: number): number {
  let lo = 0, hi = a.length - 1;
  while (lo < hi) {
    const x = a[lo]!, y = a[(lo + hi) >> 1]!, z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const tmp = a[i]!;
        a[i++] = a[j]!;
        a[j--] = tmp;
      }
    }
    // a[lo..j] <= pivot <= a[i..hi], and what lies between equals the pivot
    if (r <= j) hi = j;
    else if (r >= i) lo = i;
    else return pivot;
  }
  return a[r]!;
}

/**
 * Key first only while at least 1/16 of the entries match: until the window is full every entry
 * is a candidate, and a rare match leaves it unfilled for most of the table.
 */
const KEY_FIRST_MIN_SHARE_SHIFT = 4;

/**
 * How a window was found: in slot order (no sort), by the timer wheel, by a key-first or a
 * filter-first scan (see the head of this file), or by selection (a deep page).
 */
export type QueryPlan = 'slot-order' | 'wheel' | 'key-first' | 'filter-first' | 'select';

/**
 * Run a query: the total number of matches, the ids of the requested window in order, and the
 * plan that found them. `force` (tests) asks for a plan where it applies (the wheel walk then
 * never gives up); elsewhere the choice is made by the counts.
 */
export function queryConnIds(host: QueryHost, q: ConnQuery, force?: QueryPlan):
  {total: number; ids: number[]; plan: QueryPlan} {
  const t = host.table;
  const f = compileFilter(host, q);
  const offset = Math.max(0, q.offset ?? 0);
  const limit = Math.max(0, q.limit ?? 50);
  const known = knownTotal(host, f, q);
  if (!q.sort) {
    // With the total known the scan stops once the window is full (the first page of a million
    // entries costs one page).
    const hw = t.highWater;
    let total = 0;
    const ids: number[] = [];
    if (known === 0) return {total, ids, plan: 'slot-order'};
    for (let i = nextCandidate(t, f, 0, 1, hw); i < hw; i = nextCandidate(t, f, i + 1, 1, hw)) {
      if (!matches(t, f, i)) continue;
      if (total >= offset && ids.length < limit) ids.push(i);
      total++;
      // the total known: stop once the window is full or every match is seen
      if (known >= 0 && (ids.length >= limit || total === known)) return {total: known, ids, plan: 'slot-order'};
    }
    return {total, ids, plan: 'slot-order'};
  }
  const want = offset + limit;
  const kind = KEY_KIND[q.sort];
  const sign = q.desc ? -1 : 1;
  const window = (top: TopK) => top.takeFrom(offset);
  if (force === 'select' || (!force && want > DEEP_PAGE)) {
    const {total, ids} = selectWindow(t, f, kind, sign, offset, limit);
    return {total, ids, plan: 'select'};
  }
  if (known >= 0 && kind === K_EXPIRES && sign > 0 && t.pendingTimers === t.count &&
      (force === 'wheel' || (!force && known >= want * WHEEL_WALK_MIN_SHARE))) {
    const top = new TopK(want);
    if (wheelWalk(t, f, top, force === 'wheel' ? Infinity : t.count >> WHEEL_WALK_BUDGET_SHIFT)) {
      return {total: known, ids: window(top), plan: 'wheel'};
    }
  }
  const top = new TopK(want);
  if (known >= 0 && (force === 'key-first' || (force !== 'filter-first' && known >= t.count >> KEY_FIRST_MIN_SHARE_SHIFT))) {
    scanKeyFirst(t, f, kind, sign, top);
    return {total: known, ids: window(top), plan: 'key-first'};
  }
  const total = scanFilterFirst(t, f, kind, sign, known, top);
  return {total, ids: window(top), plan: 'filter-first'};
}
