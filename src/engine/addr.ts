// Addresses in the engine: an IPv4 address is its host-order uint32 (a.b.c.d = a<<24|b<<16|c<<8|d),
// an IPv6 address is its canonical RFC 5952 text. Both forms compare with === and need no allocation
// on the packet path for IPv4, which is what floods use.

export type Af = 4 | 6;
export type Addr = number | string;

export class AddrError extends Error {}

export function parseIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

export function formatIPv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Parse IPv6 text into eight 16-bit groups, or null. Accepts an embedded dotted IPv4 tail. */
export function parseIPv6Groups(text: string): number[] | null {
  let s = text;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (s.length === 0 || s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    // Embedded IPv4 tail ("::ffff:1.2.3.4"): rewrite it as two hex groups.
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]!);
  if (head === null) return null;
  if (halves.length === 1) {
    const all = head;
    return all.length === 8 ? all : null;
  }
  const rest = parse(halves[1]!);
  if (rest === null) return null;
  const known = head.length + rest.length;
  if (known > 7) return null;
  return [...head, ...new Array<number>(8 - known).fill(0), ...rest];
}

export function formatIPv6Groups(g: readonly number[]): string {
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on a tie.
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number, b: number) => g.slice(a, b).map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

export function canonicalIPv6(text: string): string | null {
  const g = parseIPv6Groups(text);
  return g ? formatIPv6Groups(g) : null;
}

/** Parse an address of either family. */
export function parseAddr(text: string): {af: Af; addr: Addr} | null {
  const v4 = parseIPv4(text);
  if (v4 !== null) return {af: 4, addr: v4};
  const v6 = canonicalIPv6(text);
  if (v6 !== null) return {af: 6, addr: v6};
  return null;
}

export function formatAddr(addr: Addr): string {
  return typeof addr === 'number' ? formatIPv4(addr) : addr;
}

/** addr:port as ipvsadm prints it: IPv6 in brackets. */
export function formatAddrPort(addr: Addr, port: number): string {
  return typeof addr === 'number' ? `${formatIPv4(addr)}:${port}` : `[${addr}]:${port}`;
}

/** Parse "1.2.3.4:80", "[::1]:80" (port optional when allowed). */
export function parseAddrPort(text: string, portOptional = false): {af: Af; addr: Addr; port: number} | null {
  let host = text, portText: string | undefined;
  const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (m6) { host = m6[1]!; portText = m6[2]; }
  else {
    const idx = text.lastIndexOf(':');
    if (idx >= 0 && text.indexOf(':') === idx) { host = text.slice(0, idx); portText = text.slice(idx + 1); }
  }
  const a = parseAddr(host);
  if (!a) return null;
  if (portText === undefined || portText === '') {
    if (!portOptional) return null;
    return {...a, port: 0};
  }
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  if (port > 65535) return null;
  return {...a, port};
}

/** 32-bit words of an IPv6 address (network order words as host integers). */
export function ipv6Words(addr: string): [number, number, number, number] {
  const g = parseIPv6Groups(addr);
  if (!g) throw new AddrError(`not an IPv6 address: ${addr}`);
  return [
    ((g[0]! << 16) | g[1]!) >>> 0, ((g[2]! << 16) | g[3]!) >>> 0,
    ((g[4]! << 16) | g[5]!) >>> 0, ((g[6]! << 16) | g[7]!) >>> 0,
  ];
}

/** The kernel's fold of an address to 32 bits (IPv6: XOR of its four words), host order. */
export function foldAddr(addr: Addr): number {
  if (typeof addr === 'number') return addr >>> 0;
  const w = ipv6Words(addr);
  return (w[0] ^ w[1] ^ w[2] ^ w[3]) >>> 0;
}

/** Persistence masking: IPv4 with a 32-bit netmask, IPv6 with a prefix length. */
export function maskAddr(addr: Addr, ipv4Mask: number, ipv6Prefix: number): Addr {
  if (typeof addr === 'number') return (addr & ipv4Mask) >>> 0;
  const g = parseIPv6Groups(addr)!;
  const out = g.map((word, i) => {
    const bits = Math.max(0, Math.min(16, ipv6Prefix - i * 16));
    return bits === 0 ? 0 : word & ((0xffff << (16 - bits)) & 0xffff);
  });
  return formatIPv6Groups(out);
}

/** Netmask (IPv4 dotted) to prefix length, or null if not contiguous. */
export function ipv4MaskPrefix(mask: number): number | null {
  const inv = ~mask >>> 0;
  if ((inv & (inv + 1)) !== 0) return null;
  return 32 - Math.log2(inv + 1);
}

export function prefixToIPv4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parse a CIDR block "10.0.0.0/8" or "2001:db8::/64". */
export function parseCidr(text: string): {af: Af; base: Addr; prefix: number} | null {
  const [host, len] = text.split('/');
  const a = parseAddr(host ?? '');
  if (!a) return null;
  const max = a.af === 4 ? 32 : 128;
  const prefix = len === undefined ? max : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return null;
  const base = a.af === 4 ? ((a.addr as number) & prefixToIPv4Mask(prefix)) >>> 0 : maskAddr(a.addr, 0, prefix);
  return {af: a.af, base, prefix};
}

export function isMulticast(addr: Addr): boolean {
  if (typeof addr === 'number') return addr >>> 28 === 0xe;
  return addr.startsWith('ff');
}
