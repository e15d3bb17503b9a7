// authorized_keys for `lvsdeck serve`: OpenSSH's file format, with the role carried in a standard
// OpenSSH option, so the same line also works in a real sshd's authorized_keys:
//
//   environment="LVSDECK_ROLE=operator",environment="LVSDECK_USER=alice" ssh-ed25519 AAAA... alice@laptop
//
// - role: LVSDECK_ROLE = reader | operator | admin (case-insensitive); missing or unknown = reader.
// - name shown: LVSDECK_USER, else the key's comment, else the key's short fingerprint.
// - options honoured: from="PATTERNS" (client address: wildcards * ?, CIDR, ! negation),
//   no-pty / restrict / pty (no terminal = no UI, listings only), command="..." (forced command:
//   only that read-only listing runs), expiry-time="YYYYMMDD[HHMM[SS]][Z]".
// - options accepted and ignored (lvsdeck forwards nothing): no-agent-forwarding, no-port-forwarding,
//   no-X11-forwarding, no-user-rc, their positive forms, permitopen, permitlisten, tunnel,
//   no-touch-required, verify-required.
// - any other option (cert-authority, principals, typos) skips the line with a warning, as sshd does.
// - repeated options follow sshd (auth-options.c, sshauthopt_parse): the first environment="NAME=..."
//   of a NAME counts (a later LVSDECK_ROLE cannot raise or change the role); two from= or two
//   command= options skip the line; of several expiry-time the earliest counts.
// ssh2's utils.parseKey rejects option prefixes, so the options are split off here first.
import {createHash} from 'node:crypto';
import ssh2 from 'ssh2';
import type {ParsedKey} from 'ssh2';
import {ROLES, type Role} from '../store/actions.js';
import {stripUnsafe} from '../util/untrusted-text.js';

const {utils} = ssh2;

export interface KeyOption {
  name: string;
  value?: string;
}

export interface AuthorizedKey {
  /** 1-based line number in the file. */
  line: number;
  type: string;
  /** The public key blob (SSH wire format), compared with what a client offers. */
  blob: Buffer;
  /** "SHA256:..." as ssh-keygen -l prints it. */
  fingerprint: string;
  parsed: ParsedKey;
  comment: string;
  /** The user name shown in the UI and the audit. */
  name: string;
  role: Role;
  options: KeyOption[];
  /** Values of environment="NAME=VALUE" options. */
  env: Record<string, string>;
  /** from="..." patterns (null: any address). */
  from: string[] | null;
  /** no pseudo-terminal: the UI is refused, listings (exec) still work. */
  noPty: boolean;
  /** command="...": the only thing this key may run. */
  command: string | null;
  /** expiry-time as wall ms (null: never). */
  expires: number | null;
}

export interface ParseWarning {
  line: number;
  message: string;
}

export interface AuthorizedKeys {
  keys: AuthorizedKey[];
  warnings: ParseWarning[];
}

export const ROLE_VAR = 'LVSDECK_ROLE';
export const USER_VAR = 'LVSDECK_USER';

const KEY_TYPE = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9-]+@openssh\.com|[a-z0-9-]+-cert-v01@openssh\.com)$/;
const IGNORED = new Set([
  'no-agent-forwarding', 'no-port-forwarding', 'no-x11-forwarding', 'no-user-rc', 'agent-forwarding', 'port-forwarding',
  'x11-forwarding', 'user-rc', 'permitopen', 'permitlisten', 'tunnel', 'no-touch-required', 'verify-required',
]);

/** "SHA256:base64" of a public key blob, like ssh-keygen -l. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Split an options prefix off a line: comma-separated `name` or `name="value"` (\" escapes a
 * quote inside); it ends at the first blank outside quotes. Returns null on an unterminated quote.
 */
export function splitOptions(text: string): {options: KeyOption[]; rest: string} | null {
  const options: KeyOption[] = [];
  let i = 0;
  for (;;) {
    let name = '';
    while (i < text.length && /[A-Za-z0-9_-]/.test(text[i]!)) name += text[i++];
    if (!name) return null;
    let value: string | undefined;
    if (text[i] === '=') {
      i++;
      value = '';
      if (text[i] === '"') {
        i++;
        let closed = false;
        while (i < text.length) {
          const c = text[i]!;
          if (c === '\\' && text[i + 1] === '"') { value += '"'; i += 2; continue; }
          if (c === '"') { closed = true; i++; break; }
          value += c;
          i++;
        }
        if (!closed) return null;
      } else {
        // unquoted value (sshd wants quotes; accepted up to the next comma or blank)
        while (i < text.length && text[i] !== ',' && !/\s/.test(text[i]!)) value += text[i++];
      }
    }
    options.push({name, value});
    if (text[i] === ',') { i++; continue; }
    if (i >= text.length || /\s/.test(text[i]!)) break;
    return null; // junk right after an option
  }
  return {options, rest: text.slice(i).trimStart()};
}

/** expiry-time="YYYYMMDD[HHMM[SS]][Z]" -> wall ms (local time unless Z), or null if malformed. */
export function parseExpiry(v: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z)?$/.exec(v);
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', z] = m;
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  const t = z ? Date.UTC(...parts) : new Date(...parts).getTime();
  return Number.isFinite(t) ? t : null;
}

function cleanName(s: string): string {
  return stripUnsafe(s).replace(/\s+/g, ' ').trim().slice(0, 32);
}

export function parseAuthorizedKeys(text: string): AuthorizedKeys {
  const keys: AuthorizedKey[] = [];
  const warnings: ParseWarning[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, idx) => {
    const line = idx + 1;
    const warn = (message: string) => warnings.push({line, message});
    const t = raw.replace(/\r$/, '').trim();
    if (!t || t.startsWith('#')) return;
    let options: KeyOption[] = [];
    let rest = t;
    const first = t.split(/\s+/)[0]!;
    if (!KEY_TYPE.test(first)) {
      const sp = splitOptions(t);
      if (!sp) { warn('cannot parse the options (unbalanced quotes?); line skipped'); return; }
      options = sp.options;
      rest = sp.rest;
    }
    const m = /^(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(rest);
    if (!m) { warn('want [OPTIONS] KEYTYPE BASE64 [COMMENT]; line skipped'); return; }
    const [, type, b64, comment = ''] = m as unknown as [string, string, string, string | undefined];
    if (!KEY_TYPE.test(type)) { warn(`unknown key type '${type.slice(0, 40)}'; line skipped`); return; }
    if (type.includes('-cert-v01@')) { warn('certificates are not supported; line skipped'); return; }
    const parsed = utils.parseKey(`${type} ${b64}`);
    if (parsed instanceof Error || Array.isArray(parsed)) {
      const msg = parsed instanceof Error ? parsed.message : 'several keys';
      warn(`bad ${type} key (${msg}); line skipped`);
      return;
    }
    const blob = parsed.getPublicSSH();
    const fp = fingerprint(blob);
    const env: Record<string, string> = {};
    let from: string[] | null = null;
    let noPty = false, command: string | null = null, expires: number | null = null;
    let bad: string | null = null;
    for (const o of options) {
      const name = o.name.toLowerCase();
      const need = () => { if (o.value === undefined) bad = `option ${o.name} needs a value`; return o.value ?? ''; };
      switch (name) {
        case 'environment': {
          const v = need();
          const eq = v.indexOf('=');
          if (eq <= 0) { bad = `environment="${v}" is not NAME=VALUE`; break; }
          const envName = v.slice(0, eq);
          // sshd (auth-options.c, sshauthopt_parse) keeps the first NAME= and ignores later ones
          if (env[envName] === undefined) env[envName] = v.slice(eq + 1);
          else if (env[envName] !== v.slice(eq + 1)) warn(`${envName} given again ('${v.slice(eq + 1).slice(0, 40)}'); the first one ('${env[envName]!.slice(0, 40)}') counts`);
          break;
        }
        case 'from':
          // sshd refuses a line with two from= (or two command=) clauses
          if (from !== null) { bad = 'multiple from= options'; break; }
          from = need().split(',').map((x) => x.trim()).filter(Boolean);
          break;
        case 'no-pty': noPty = true; break;
        case 'restrict': noPty = true; break;
        case 'pty': noPty = false; break;
        case 'command':
          if (command !== null) { bad = 'multiple command= options'; break; }
          command = need();
          break;
        case 'expiry-time': {
          const v = need();
          const t = parseExpiry(v);
          if (t === null) bad = `expiry-time="${v}" is not YYYYMMDD[HHMM[SS]]`;
          // several: the earliest counts (as sshd)
          else expires = expires === null ? t : Math.min(expires, t);
          break;
        }
        default:
          if (!IGNORED.has(name)) bad = `unsupported option '${o.name}'`;
      }
      if (bad) break;
    }
    if (bad) { warn(`${bad}; line skipped`); return; }
    let role: Role = 'reader';
    const wanted = env[ROLE_VAR];
    if (wanted !== undefined) {
      const r = wanted.trim().toLowerCase();
      if ((ROLES as readonly string[]).includes(r)) role = r as Role;
      else warn(`${ROLE_VAR}=${wanted}: not one of ${ROLES.join(', ')}; this key is a reader`);
    }
    const dup = seen.get(fp);
    if (dup !== undefined) { warn(`the same key as line ${dup}; the first line wins, this one is ignored`); return; }
    seen.set(fp, line);
    const name = cleanName(env[USER_VAR] ?? '') || cleanName(comment) || fp.slice(0, 15);
    keys.push({
      line, type, blob, fingerprint: fp, parsed, comment: comment.trim(), name, role, options, env, from, noPty, command, expires,
    });
  });
  return {keys, warnings};
}

// ------------------------------------------------------------------------------------ from=

/** IPv4 dotted quad -> number, or null. IPv4-mapped IPv6 (::ffff:1.2.3.4) is unwrapped. */
function v4(addr: string): number | null {
  const a = addr.replace(/^::ffff:/i, '');
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) return null;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

function wildcard(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(s);
}

/** One pattern against an address: CIDR (a.b.c.d/n), wildcards, or the exact address. */
function matchOne(pattern: string, ip: string): boolean {
  const plain = ip.replace(/^::ffff:(?=\d+\.)/i, '');
  const cidr = /^([\d.]+)\/(\d{1,2})$/.exec(pattern);
  if (cidr) {
    const net = v4(cidr[1]!), a = v4(plain), bits = Number(cidr[2]);
    if (net === null || a === null || bits > 32) return false;
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return ((net & mask) >>> 0) === ((a & mask) >>> 0);
  }
  return wildcard(pattern, plain) || wildcard(pattern, ip);
}

/**
 * sshd's from= rule on the client address (names are not resolved): a matching negated pattern
 * denies; otherwise some positive pattern must match.
 */
export function fromAllows(patterns: string[] | null, ip: string): boolean {
  if (!patterns) return true;
  let ok = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (matchOne(p.slice(1), ip)) return false;
    } else if (matchOne(p, ip)) ok = true;
  }
  return ok;
}
