// printf-style helpers for the byte-exact ipvsadm and procfs layouts (ip_vs_ctl.c ip_vs_info_seq_show, ip_vs_conn.c ip_vs_conn_seq_show, ipvsadm.c print_*).
import {parseIPv6Groups} from '../engine/addr.js';

/** C `%-Ns`: left-justified in N, never truncated. */
export function padR(s: string | number, width: number): string {
  return String(s).padEnd(width, ' ');
}

/** C `%Ns` / `%Nd`: right-justified in N, never truncated. */
export function padL(s: string | number, width: number): string {
  return String(s).padStart(width, ' ');
}

/** C `%0NX`: upper-case hex, zero-padded to N digits (never truncated). */
export function hexU(n: number, width: number): string {
  return Math.trunc(n).toString(16).toUpperCase().padStart(width, '0');
}

/** C `%NX` / `%NLX`: upper-case hex right-justified in N with blanks. */
export function hexPad(n: number, width: number): string {
  return Math.trunc(n).toString(16).toUpperCase().padStart(width, ' ');
}

/**
 * ipvsadm's print_largenum: with --exact the decimal right-aligned in max(9, digits+1); otherwise
 * below 10^8 `%9llu`, then K (÷1000), M (÷10^6), G (÷10^9), T (÷10^12) as `%8llu` + the letter.
 */
export function largenum(n: number, exact: boolean): string {
  const v = Math.max(0, Math.trunc(n));
  if (exact) {
    const s = String(v);
    return padL(s, s.length <= 8 ? 9 : s.length + 1);
  }
  if (v < 1e8) return padL(v, 9);
  if (v < 1e9) return `${padL(Math.floor(v / 1e3), 8)}K`;
  if (v < 1e11) return `${padL(Math.floor(v / 1e6), 8)}M`;
  if (v < 1e14) return `${padL(Math.floor(v / 1e9), 8)}G`;
  return `${padL(Math.floor(v / 1e12), 8)}T`;
}

/** ipvsadm -c expire column: "%02d:%02d" of seconds/60 and seconds%60 (minutes not limited). */
export function mmss(seconds: number): string {
  const s = Math.max(0, Math.trunc(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** The kernel's `%pI6`: eight groups of four lower-case hex digits, no `::` compression. */
export function ipv6Full(addr: string): string {
  const g = parseIPv6Groups(addr);
  if (!g) throw new Error(`not an IPv6 address: ${addr}`);
  return g.map((x) => x.toString(16).padStart(4, '0')).join(':');
}

/** Join output lines, each terminated by a newline. */
export function lines(out: string[]): string {
  return out.length ? `${out.join('\n')}\n` : '';
}
