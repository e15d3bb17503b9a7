// sysctl(8) (procps) for the net.ipv4.vs.* tree of the engine: `NAME = VALUE` lines, -a sorted by
// name, -n / -N / -e / -q / -w / -p, procps's messages and its exit status 255 on errors.
import type {Engine} from '../engine/engine.js';
import {TUNABLES, findTunable} from '../engine/tunables.js';
import {strerror} from './errors.js';

export const SYSCTL_PREFIX = 'net.ipv4.vs.';

export interface SysctlResult {
  stdout: string;
  stderr: string;
  code: number;
  /** Whether a value was written successfully. */
  mutated: boolean;
}

export interface SysctlOptions {
  /** File contents for -p (name -> text), read by the caller. */
  readFile?: (path: string) => string;
}

/** `net.ipv4.vs.NAME = VALUE` for one tunable, as `sysctl NAME` prints it. */
export function sysctlLine(e: Engine, name: string): string {
  return `${SYSCTL_PREFIX}${name} = ${e.readTunable(name)}`;
}

/** Every net.ipv4.vs.* line, sorted by name (`sysctl -a` restricted to IPVS). */
export function sysctlAll(e: Engine): string {
  return TUNABLES.map((d) => `${sysctlLine(e, d.name)}\n`).join('');
}

/**
 * Normalise a key given as net.ipv4.vs.NAME or net/ipv4/vs/NAME (or, with allowShort, a bare
 * NAME); null if it is not an IPVS sysctl.
 */
export function tunableName(key: string, allowShort = false): string | null {
  let k = key.trim();
  if (k.includes('/') && !k.includes('.')) k = k.replace(/\//g, '.');
  if (k.startsWith(SYSCTL_PREFIX)) k = k.slice(SYSCTL_PREFIX.length);
  else if (!allowShort || k.includes('.')) return null;
  if (k.includes('.') || k.includes('/')) return null;
  const d = findTunable(k);
  return d ? d.name : null;
}

/** The path procps would stat for a key (dots become slashes). */
function procPath(key: string): string {
  return `/proc/sys/${key.trim().replace(/\./g, '/')}`;
}

function displayName(key: string): string {
  return key.trim().replace(/\//g, '.');
}

export const SYSCTL_USAGE = `
Usage:
 sysctl [options] [variable[=value] ...]

Options:
  -a, --all            display all variables
  -A                   alias of -a
  -X                   alias of -a
  -b, --binary         print value without new line
  -e, --ignore         ignore unknown variables errors
  -N, --names          print variable names without values
  -n, --values         print only values of a variables
  -p, --load[=<file>]  read values from file
  -f                   alias of -p
  -q, --quiet          do not echo variable set
  -w, --write          enable writing a value to variable

 -h, --help     display this help and exit
 -V, --version  output version information and exit

Only the net.ipv4.vs.* tree of the simulated director exists here.
`;

/** Run `sysctl ARGS` against the engine's tunables. */
export function runSysctl(e: Engine, args: readonly string[], opts: SysctlOptions = {}): SysctlResult {
  let out = '', err = '';
  let rc = 0;
  let mutated = false;
  let nameOnly = false, printName = true, printNewline = true, ignoreError = false, quiet = false;
  let writeMode = false, displayAll = false;
  let preload: string | null = null;
  const operands: string[] = [];
  let switches = true;

  if (args.length === 0) return {stdout: '', stderr: SYSCTL_USAGE.trimStart(), code: 1, mutated: false};

  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (switches && a === '--') { switches = false; continue; }
    if (switches && a.startsWith('--')) {
      const [name, val] = a.slice(2).split('=', 2) as [string, string | undefined];
      switch (name) {
        case 'all': displayAll = true; break;
        case 'binary': printNewline = false; break;
        case 'ignore': ignoreError = true; break;
        case 'names': nameOnly = true; break;
        case 'values': printName = false; break;
        case 'quiet': quiet = true; break;
        case 'write': writeMode = true; break;
        case 'load': preload = val ?? ''; break;
        case 'help': return {stdout: SYSCTL_USAGE.trimStart(), stderr: '', code: 0, mutated: false};
        default: return {stdout: '', stderr: `sysctl: unrecognized option '${a}'\n${SYSCTL_USAGE.trimStart()}`, code: 1, mutated: false};
      }
      continue;
    }
    if (switches && a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        switch (c) {
          case 'a': case 'A': case 'X': displayAll = true; break;
          case 'b': printNewline = false; break;
          case 'e': ignoreError = true; break;
          case 'N': nameOnly = true; break;
          case 'n': printName = false; break;
          case 'q': quiet = true; break;
          case 'w': writeMode = true; break;
          case 'o': case 'x': break;
          case 'p': case 'f': {
            const rest = a.slice(j + 1);
            preload = rest;
            j = a.length;
            break;
          }
          case 'h': case 'd': return {stdout: SYSCTL_USAGE.trimStart(), stderr: '', code: 0, mutated: false};
          default:
            return {stdout: '', stderr: `sysctl: invalid option -- '${c}'\n${SYSCTL_USAGE.trimStart()}`, code: 1, mutated: false};
        }
      }
      continue;
    }
    operands.push(a);
  }

  /** The tunable a key names, or null after reporting it as procps does (unless -e). */
  const knownName = (key: string): string | null => {
    const name = tunableName(key);
    if (!name && !ignoreError) {
      err += `sysctl: cannot stat ${procPath(key)}: No such file or directory\n`;
      rc = 255;
    }
    return name;
  };

  const readOne = (key: string): void => {
    if (!key) {
      err += `sysctl: "${key}" is an unknown key\n`;
      rc = 255;
      return;
    }
    const name = knownName(key);
    if (!name) return;
    const shown = `${SYSCTL_PREFIX}${name}`;
    if (nameOnly) out += `${shown}\n`;
    else if (printName) out += `${shown} = ${e.readTunable(name)}\n`;
    else out += printNewline ? `${e.readTunable(name)}\n` : e.readTunable(name);
  };

  const writeOne = (setting: string): void => {
    const eq = setting.indexOf('=');
    if (eq < 0) {
      err += `sysctl: "${setting}" must be of the form name=value\n`;
      rc = 255;
      return;
    }
    const key = setting.slice(0, eq);
    const value = setting.slice(eq + 1);
    if (!key || !value) {
      err += `sysctl: Malformed setting "${setting}"\n`;
      rc = 255;
      return;
    }
    const name = knownName(key);
    if (!name) return;
    const res = e.setTunable(name, value);
    if (!res.ok) {
      err += `sysctl: setting key "${displayName(key)}": ${strerror(res.errno)}\n`;
      rc = 255;
      return;
    }
    mutated = true;
    if (quiet) return;
    const shown = displayName(key);
    if (nameOnly) out += `${shown}\n`;
    else if (printName) out += `${shown} = ${value}\n`;
    else out += printNewline ? `${value}\n` : value;
  };

  if (preload !== null) {
    // -p FILE / --load=FILE; a bare -p loads the operands as files (procps), else /etc/sysctl.conf
    const files = preload ? [preload] : operands.length ? operands : ['/etc/sysctl.conf'];
    for (const file of files) {
      let text: string;
      try {
        text = opts.readFile ? opts.readFile(file) : '';
      } catch (x) {
        return {stdout: out, stderr: `${err}sysctl: cannot open "${file}": ${(x as Error).message}\n`, code: 255, mutated};
      }
      text.split('\n').forEach((raw, i) => {
        const t = raw.trim();
        if (t.length < 2 || t.startsWith('#') || t.startsWith(';')) return;
        const eq = t.indexOf('=');
        const name = (eq < 0 ? t : t.slice(0, eq)).trim();
        const value = eq < 0 ? '' : t.slice(eq + 1).trim();
        if (!name || !value) {
          err += `sysctl: ${file}(${i + 1}): invalid syntax, continuing...\n`;
          return;
        }
        writeOne(`${name}=${value}`);
      });
    }
    return {stdout: out, stderr: err, code: rc, mutated};
  }

  if (displayAll) {
    for (const d of TUNABLES) readOne(`${SYSCTL_PREFIX}${d.name}`);
    return {stdout: out, stderr: err, code: rc, mutated};
  }
  if (operands.length === 0) return {stdout: '', stderr: SYSCTL_USAGE.trimStart(), code: 1, mutated: false};
  for (const op of operands) {
    if (writeMode || op.includes('=')) writeOne(op);
    else readOne(op);
  }
  return {stdout: out, stderr: err, code: rc, mutated};
}
