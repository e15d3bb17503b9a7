// Text helpers for the views: fixed-width cells, compact numbers, clocks.
import {formatAddrPort} from '../engine/addr.js';
import type {Addr} from '../engine/addr.js';

/** Cut or pad to exactly `w` cells (one cell per code point; the UI uses no wide glyphs). */
export function cell(s: string | number, w: number, align: 'left' | 'right' = 'left'): string {
  const t = String(s);
  const chars = [...t];
  if (w <= 0) return '';
  if (chars.length > w) return w === 1 ? '…' : chars.slice(0, w - 1).join('') + '…';
  const pad = ' '.repeat(w - chars.length);
  return align === 'left' ? t + pad : pad + t;
}

export const fit = (s: string, w: number): string => cell(s, w);

/** 1234 -> "1,234"; >= 1e6 -> "1.23M" when `compact`. */
export function num(n: number, compact = false): string {
  if (!Number.isFinite(n)) return '-';
  const a = Math.abs(n);
  if (compact) {
    if (a >= 1e9) return `${(n / 1e9).toFixed(a >= 1e10 ? 0 : 1)}G`;
    if (a >= 1e6) return `${(n / 1e6).toFixed(a >= 1e7 ? 1 : 2)}M`;
    if (a >= 1e4) return `${(n / 1e3).toFixed(a >= 1e5 ? 0 : 1)}k`;
  }
  return Math.round(n).toLocaleString('en-US');
}

/** Bytes -> "12.3MiB". */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n, u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(v >= 100 || u === 0 ? 0 : 1)}${units[u]}`;
}

/** Virtual ms -> "01:02:03" (the UI publishes once per virtual second). */
export function clock(ms: number): string {
  const t = Math.max(0, Math.floor(ms / 1000));
  const s = t % 60, m = Math.floor(t / 60) % 60, h = Math.floor(t / 3600);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

/** ms remaining -> "mm:ss" as ipvsadm -Lc prints expire times. */
export function mmss(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export function speed(x: number): string {
  return x >= 1 ? `×${x}` : `×${x}`;
}

export const addrPort = (a: Addr, p: number): string => formatAddrPort(a, p);

export const FWD_LABEL: Record<string, string> = {masq: 'Masq', route: 'Route', tunnel: 'Tunnel', local: 'Local', bypass: 'Bypass'};

/** Foreground SGR codes of the colour names the views use (the codes chalk gives Ink's <Text color>). */
const FG: Record<string, number> = {
  black: 30, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, white: 37, gray: 90, grey: 90,
};

export interface CellStyle {
  color?: string;
  inverse?: boolean;
}

/**
 * Wrap pre-rendered text in the escapes Ink's <Text color inverse> would give it (colour inside,
 * inverse outside), so one multi-line <Text> can carry many differently styled rows.
 */
export function paint(text: string, style: CellStyle): string {
  const fg = style.color ? FG[style.color] : undefined;
  let out = fg !== undefined ? `\x1b[${fg}m${text}\x1b[39m` : text;
  if (style.inverse) out = `\x1b[7m${out}\x1b[27m`;
  return out;
}
