// The UI's window onto the connection table: filter, sort and page a million entries without
// building an object per entry. Filters compile to numeric tests where the text allows it
// (an address, addr:port, a port, a protocol or a state name); anything else falls back to a
// substring match on the entry's label. Sorting keeps only the top offset+limit keys in a
// bounded heap, so a 40-row window costs one pass over the table.
import {type Addr, foldAddr, parseAddr, parseAddrPort} from './addr.js';
import {CONN_F, IPPROTO_IP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP} from './constants.js';
import type {ConnTable} from './conn-table.js';
import {SCTP_STATE_NAMES} from './proto/sctp.js';
import {TCP_STATE_NAMES} from './proto/tcp.js';

export type ConnSortKey = 'proto' | 'client' | 'virtual' | 'real' | 'state' | 'expires' | 'inpkts' | 'outpkts';

export interface ConnQuery {
  /** An address, addr:port, port, protocol or state name; otherwise a case-insensitive substring. */
  text?: string;
  state?: string;
  destId?: number;
  templates?: 'include' | 'exclude' | 'only';
  sort?: ConnSortKey;
  desc?: boolean;
  offset?: number;
  limit?: number;
}

export interface QueryHost {
  readonly table: ConnTable;
  connLabel(i: number): string;
  stateName(i: number): string;
}

type Pred = (i: number) => boolean;

const PROTOS: Record<string, number> = {tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: IPPROTO_SCTP, ip: IPPROTO_IP};

function addrPred(t: ConnTable, a: Addr, port: number | null): Pred {
  if (typeof a === 'number') {
    // IPv4: compare the stored words directly (no decoding), the fast path for a 1M-entry scan.
    if (port === null) {
      return (i) => (!t.isDest6(i) && t.destAddrWord(i) === a) ||
        (!t.isClient6(i) && (t.clientAddrWord(i) === a || (t.virtualAddrWord(i) === a && !t.isFwmarkTemplate(i))));
    }
    return (i) => (!t.isDest6(i) && t.destAddrWord(i) === a && t.destPortOf(i) === port) || (!t.isClient6(i) &&
      ((t.clientAddrWord(i) === a && t.clientPortOf(i) === port) ||
        (t.virtualAddrWord(i) === a && t.virtualPortOf(i) === port && !t.isFwmarkTemplate(i))));
  }
  const matchAddr = (i: number) =>
    t.clientAddr(i) === a || t.destAddr(i) === a || (!t.isFwmarkTemplate(i) && t.virtualAddr(i) === a);
  if (port === null) return matchAddr;
  return (i) =>
    (t.clientAddr(i) === a && t.clientPortOf(i) === port) || (t.destAddr(i) === a && t.destPortOf(i) === port) ||
    (!t.isFwmarkTemplate(i) && t.virtualAddr(i) === a && t.virtualPortOf(i) === port);
}

const STATE_NAMES_BY_PROTO: readonly [number, readonly string[]][] = [
  [IPPROTO_TCP, TCP_STATE_NAMES], [IPPROTO_UDP, ['UDP']], [IPPROTO_SCTP, SCTP_STATE_NAMES],
];

/** Entries whose state name is `name` (as stateName() prints it), tested on the raw arrays. */
export function statePred(t: ConnTable, name: string): Pred {
  const ok = new Uint8Array(256 * 256); // [proto][state]
  for (const [proto, names] of STATE_NAMES_BY_PROTO) {
    names.forEach((n, st) => { if (n === name) ok[proto * 256 + st] = 1; });
  }
  const tplOk = [name === 'NONE' ? 1 : 0, name === 'ASSURED' ? 1 : 0];
  return (i) => (t.flagsOf(i) & CONN_F.TEMPLATE ? tplOk[t.stateOf(i) & 1] === 1 : ok[t.protoOf(i) * 256 + t.stateOf(i)] === 1);
}

/** Compile the free-text filter. */
export function compileText(host: QueryHost, text: string): Pred {
  const t = host.table;
  const q = text.trim();
  const lower = q.toLowerCase();
  if (PROTOS[lower] !== undefined) {
    const p = PROTOS[lower]!;
    return (i) => t.protoOf(i) === p;
  }
  const upper = q.toUpperCase();
  if (TCP_STATE_NAMES.includes(upper) || SCTP_STATE_NAMES.includes(upper) || upper === 'UDP' ||
      upper === 'NONE' || upper === 'ASSURED') {
    return statePred(t, upper);
  }
  if (/^\d{1,5}$/.test(q) && Number(q) < 65536) {
    const port = Number(q);
    return (i) => t.clientPortOf(i) === port || t.virtualPortOf(i) === port || t.destPortOf(i) === port;
  }
  const ap = parseAddrPort(q);
  if (ap) return addrPred(t, ap.addr, ap.port);
  const a = parseAddr(q);
  if (a) return addrPred(t, a.addr, null);
  return (i) => `${host.connLabel(i)} ${host.stateName(i)}`.toLowerCase().includes(lower);
}

function addrKey(a: Addr): number {
  return typeof a === 'number' ? a : foldAddr(a) + 2 ** 32;
}

function sortKey(host: QueryHost, k: ConnSortKey): (i: number) => number {
  const t = host.table;
  switch (k) {
    case 'proto': return (i) => t.protoOf(i);
    // IPv4 words sort as themselves; IPv6 addresses after all IPv4 ones, by their fold.
    case 'client': return (i) => (t.isClient6(i) ? addrKey(t.clientAddr(i)) : t.clientAddrWord(i)) * 65536 + t.clientPortOf(i);
    case 'virtual': return (i) => (t.isClient6(i) ? addrKey(t.virtualAddr(i)) : t.virtualAddrWord(i)) * 65536 + t.virtualPortOf(i);
    case 'real': return (i) => (t.isDest6(i) ? addrKey(t.destAddr(i)) : t.destAddrWord(i)) * 65536 + t.destPortOf(i);
    case 'state': return (i) => t.protoOf(i) * 256 + t.stateOf(i) + (t.flagsOf(i) & CONN_F.TEMPLATE ? 65536 : 0);
    case 'expires': return (i) => t.expiresOf(i);
    case 'inpkts': return (i) => t.inPktsOf(i);
    case 'outpkts': return (i) => t.outPktsOf(i);
  }
}

/**
 * Bounded max-heap of the k smallest (key, index) pairs under the sort order; the heap top is
 * the worst kept pair, replaced when a better one arrives.
 */
class TopK {
  private keys: Float64Array;
  private ids: Int32Array;
  size = 0;
  constructor(private readonly k: number, private readonly dir: number) {
    this.keys = new Float64Array(k);
    this.ids = new Int32Array(k);
  }
  /** a "worse" than b: later in the output order (direction applied, index breaks ties). */
  private worse(ka: number, ia: number, kb: number, ib: number): boolean {
    if (ka !== kb) return (ka > kb) === (this.dir > 0);
    return ia > ib;
  }
  offer(key: number, id: number): void {
    const {keys, ids} = this;
    // Fast reject once full: most entries of a big table lose to the current worst kept one.
    if (this.size === this.k && this.k > 0) {
      const top = keys[0]!;
      if (this.dir > 0 ? key > top : key < top) return;
    }
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.worse(key, id, keys[p]!, ids[p]!)) break;
        keys[i] = keys[p]!; ids[i] = ids[p]!; i = p;
      }
      keys[i] = key; ids[i] = id;
      return;
    }
    if (!this.worse(keys[0]!, ids[0]!, key, id)) return;
    let i = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = -1, mk = key, mi = id;
      if (l < n && this.worse(keys[l]!, ids[l]!, mk, mi)) { m = l; mk = keys[l]!; mi = ids[l]!; }
      if (r < n && this.worse(keys[r]!, ids[r]!, mk, mi)) { m = r; }
      if (m < 0) break;
      keys[i] = keys[m]!; ids[i] = ids[m]!; i = m;
    }
    keys[i] = key; ids[i] = id;
  }
  /** Key of the worst kept pair once full (a key beyond it can never enter), else null. */
  bound(): number | null {
    return this.size === this.k && this.k > 0 ? this.keys[0]! : null;
  }

  /** Kept ids in output order. */
  sorted(): number[] {
    const order = Array.from({length: this.size}, (_, j) => j);
    order.sort((a, b) => (this.worse(this.keys[a]!, this.ids[a]!, this.keys[b]!, this.ids[b]!) ? 1 : -1));
    return order.map((j) => this.ids[j]!);
  }
}

/**
 * One pass offering every match to `top`; returns the number of matches. The result does not
 * depend on the scan order (ties break by slot), only the cost does: slots fill roughly oldest
 * first, so a descending sort scans from the end and meets its winners early. The common keys get
 * their own loop with the key read inline and a local reject bound, so a 1M-entry scan costs a few
 * array reads per entry rather than two closure calls.
 */
function sortedScan(host: QueryHost, sort: ConnSortKey, desc: boolean, hw: number,
  match: Pred | null, top: TopK): number {
  const t = host.table;
  let total = 0;
  const from = desc ? hw - 1 : 0, step = desc ? -1 : 1, end = desc ? -1 : hw;
  // `bound`: entries whose key is strictly beyond it lose to every kept one (ties still compete).
  let bound = desc ? -Infinity : Infinity;
  const offer = (k: number, i: number) => {
    top.offer(k, i);
    const b = top.bound();
    if (b !== null) bound = b;
  };
  if (sort === 'expires') {
    for (let i = from; i !== end; i += step) {
      if (t.isFreeSlot(i) || (match !== null && !match(i))) continue;
      total++;
      const k = t.expiresOf(i);
      if (desc ? k < bound : k > bound) continue;
      offer(k, i);
    }
    return total;
  }
  if (sort === 'client') {
    for (let i = from; i !== end; i += step) {
      if (t.isFreeSlot(i) || (match !== null && !match(i))) continue;
      total++;
      const k = (t.isClient6(i) ? addrKey(t.clientAddr(i)) : t.clientAddrWord(i)) * 65536 + t.clientPortOf(i);
      if (desc ? k < bound : k > bound) continue;
      offer(k, i);
    }
    return total;
  }
  const key = sortKey(host, sort);
  for (let i = from; i !== end; i += step) {
    if (t.isFreeSlot(i) || (match !== null && !match(i))) continue;
    total++;
    const k = key(i);
    if (desc ? k < bound : k > bound) continue;
    offer(k, i);
  }
  return total;
}

/** Run a query: the total number of matches and the ids of the requested window, in order. */
export function queryConnIds(host: QueryHost, q: ConnQuery): {total: number; ids: number[]} {
  const t = host.table;
  const preds: Pred[] = [];
  if (q.templates === 'exclude') preds.push((i) => (t.flagsOf(i) & CONN_F.TEMPLATE) === 0);
  if (q.templates === 'only') preds.push((i) => (t.flagsOf(i) & CONN_F.TEMPLATE) !== 0);
  if (q.destId !== undefined) {
    const d = q.destId;
    preds.push((i) => t.destIdOf(i) === d);
  }
  if (q.state) preds.push(statePred(t, q.state));
  if (q.text && q.text.trim()) preds.push(compileText(host, q.text));
  const match: Pred = preds.length === 0 ? () => true : preds.length === 1 ? preds[0]! : (i) => {
    for (const p of preds) if (!p(i)) return false;
    return true;
  };
  const hw = t.highWater;
  const offset = Math.max(0, q.offset ?? 0);
  const limit = Math.max(0, q.limit ?? 50);
  let total = 0;
  if (!q.sort) {
    // Filtered by nothing but the template switch, the total is the table's own count: the scan
    // stops once the window is full (the first page of a million entries costs one page).
    const known = q.destId !== undefined || q.state || (q.text && q.text.trim()) ? -1
      : q.templates === 'only' ? t.templates : q.templates === 'exclude' ? t.count - t.templates : t.count;
    const ids: number[] = [];
    for (let i = 0; i < hw; i++) {
      if (t.isFreeSlot(i) || !match(i)) continue;
      if (total >= offset && ids.length < limit) ids.push(i);
      total++;
      if (known >= 0 && ids.length >= limit) return {total: known, ids};
    }
    return {total, ids};
  }
  const top = new TopK(offset + limit, q.desc ? -1 : 1);
  total = sortedScan(host, q.sort, q.desc === true, hw, preds.length === 0 ? null : match, top);
  return {total, ids: top.sorted().slice(offset, offset + limit)};
}
