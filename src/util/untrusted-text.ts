// Text that came from a client (an ssh user name, an exec line, a tunable name typed in a reader's
// command bar) ends up in the server log, the audit file and other operators' screens. Written raw,
// a newline forges a log line ("login: ops (admin)") and an escape sequence drives the terminal of
// whoever reads it. Every such string goes through one of these before it is shown or stored.

/**
 * Characters never written raw: C0 controls and DEL, C1 controls (U+0080..U+009F: 8-bit CSI and
 * friends, which some terminals obey), line/paragraph separators, bidi overrides and isolates
 * (they reorder what follows on the line), and the BOM / zero-width no-break space.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `s` with every unsafe character written as a visible escape (\x1b, \n, \u202e). */
export function escapeControls(s: string): string {
  return s.replace(UNSAFE, escapeChar);
}

/** `s` without the unsafe characters (for names, where an escape would only be noise). */
export function stripUnsafe(s: string): string {
  return s.replace(UNSAFE, '');
}

/**
 * A client-supplied string for a log line: double-quoted, `"` and `\` escaped, unsafe characters
 * escaped, at most `max` characters (then "..." after the closing quote). A forged field separator
 * or line therefore stays inside the quotes, visibly.
 */
export function quoteUntrusted(s: string, max = 64): string {
  const cut = s.length > max;
  const body = escapeControls((cut ? s.slice(0, max) : s).replace(/[\\"]/g, '\\$&'));
  return `"${body}"${cut ? '...' : ''}`;
}

/**
 * JSON.stringify, then the characters it leaves raw that a terminal or a log viewer may act on
 * (DEL, C1 controls, separators, bidi controls) as \u escapes: still the same JSON value.
 */
export function safeJson(value: unknown): string {
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(value).replace(/[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
