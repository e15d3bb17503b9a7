// Times and sizes as scenario files write them. Times: a number of seconds (1.5) or a string with
// a unit ("500ms", "90s", "2m", "1h", "1m30s"); every time must be a whole number of milliseconds.
// Sizes: a number of bytes or a string with a unit (B, kB, KiB, MB, MiB, GB, GiB, TB, TiB).

export class UnitError extends Error {}

const TIME_UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000};

function wholeMs(ms: number, text: string): number {
  const r = Math.round(ms);
  if (!Number.isFinite(ms) || Math.abs(ms - r) > 1e-6) {
    throw new UnitError(`bad time '${text}': must be a whole number of milliseconds`);
  }
  return r;
}

/** Parse a time to milliseconds; throws UnitError with the reason. */
export function parseTime(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new UnitError(`bad time ${v}: must be a non-negative number of seconds`);
    return wholeMs(v * 1000, String(v));
  }
  if (typeof v !== 'string') throw new UnitError(`bad time ${JSON.stringify(v)} (use seconds like 1.5, or 500ms, 90s, 2m, 1h)`);
  const text = v.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return parseTime(Number(text));
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let last = -1;
  const order = ['h', 'm', 's', 'ms'];
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const idx = order.indexOf(m[2]!);
    if (idx <= last) throw new UnitError(`bad time '${v}' (units out of order)`);
    last = idx;
    total += Number(m[1]) * TIME_UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== text.length) {
    throw new UnitError(`bad time '${v}' (use seconds like 1.5, or 500ms, 90s, 2m, 1h, 1m30s)`);
  }
  return wholeMs(total, v);
}

const SIZE_UNITS: Record<string, number> = {
  B: 1, kB: 1e3, KB: 1e3, KiB: 1024, MB: 1e6, MiB: 2 ** 20, GB: 1e9, GiB: 2 ** 30, TB: 1e12, TiB: 2 ** 40,
};

/** Parse a size to bytes (a non-negative integer); throws UnitError. */
export function parseSize(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new UnitError(`bad size ${v}: must be a whole number of bytes`);
    return v;
  }
  if (typeof v !== 'string') throw new UnitError(`bad size ${JSON.stringify(v)} (use bytes or e.g. 512MiB)`);
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(v.trim());
  const mult = m ? (m[2] === '' ? 1 : SIZE_UNITS[m[2]!]) : undefined;
  if (!m || mult === undefined) {
    throw new UnitError(`bad size '${v}' (use bytes or a unit: B, kB, KiB, MB, MiB, GB, GiB, TB, TiB)`);
  }
  const bytes = Number(m[1]) * mult;
  if (!Number.isSafeInteger(Math.round(bytes)) || Math.abs(bytes - Math.round(bytes)) > 1e-6) {
    throw new UnitError(`bad size '${v}': not a whole number of bytes`);
  }
  return Math.round(bytes);
}

/** Milliseconds as seconds with three decimals ("12.345"). */
export function fmtSeconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
