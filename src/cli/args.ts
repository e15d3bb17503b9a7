// One small spec per subcommand: node:util.parseArgs reads the arguments, and the same spec writes
// the command's --help, so what is accepted and what is documented cannot drift apart.
// This module imports nothing heavy: `lvsdeck --help` and `lvsdeck CMD --help` load only the specs.
import {parseArgs} from 'node:util';

export interface OptionSpec {
  /** Long name without the dashes. */
  name: string;
  short?: string;
  /** Placeholder of the value (e.g. 'FILE'); absent for a flag that takes no value. */
  value?: string;
  help: string;
  /** May be given more than once; the values are collected in order. */
  multiple?: boolean;
  /** Accepted but not listed (test and profiling hooks). */
  hidden?: boolean;
}

export interface CommandSpec {
  name: string;
  /** One line for `lvsdeck --help`. */
  summary: string;
  /** The synopsis after `usage: `. */
  usage: string;
  /** Paragraphs shown between the synopsis and the options. */
  about?: string;
  options: OptionSpec[];
  /** Positional arguments: how many are allowed. */
  positionals?: {min: number; max: number};
  /** Text after the options. */
  footer?: string;
  /**
   * The arguments belong to an emulated tool (ipvsadm, sysctl) that parses them itself and has its
   * own -h; only the options listed here are lvsdeck's.
   */
  passthrough?: boolean;
}

/** Bad command-line input: the message is printed after `lvsdeck CMD: `, exit status 2. */
export class UsageError extends Error {}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedArgs {
  values: OptionValues;
  positionals: string[];
  help: boolean;
}

const HELP_OPTION: OptionSpec = {name: 'help', short: 'h', help: 'this help'};

/** Parse `args` against `spec`; throws UsageError with a specific message on anything unexpected. */
export function parseCommandArgs(spec: CommandSpec, args: readonly string[]): ParsedArgs {
  const known = new Map<string, OptionSpec>();
  for (const o of [...spec.options, HELP_OPTION]) {
    known.set(o.name, o);
    if (o.short) known.set(o.short, o);
  }
  const options: Record<string, {type: 'string' | 'boolean'; short?: string; multiple?: boolean}> = {};
  for (const o of [...spec.options, HELP_OPTION]) {
    options[o.name] = {type: o.value ? 'string' : 'boolean', ...(o.short ? {short: o.short} : {}), ...(o.multiple ? {multiple: true} : {})};
  }
  // strict: false so that every problem gets our own wording; the tokens say exactly what was seen
  const {tokens} = parseArgs({args: [...args], options, strict: false, allowPositionals: true, tokens: true});
  const values: OptionValues = {};
  const positionals: string[] = [];
  const again = `(try lvsdeck ${spec.name} --help)`;
  for (const t of tokens) {
    if (t.kind === 'positional') { positionals.push(t.value); continue; }
    if (t.kind === 'option-terminator') continue;
    const o = known.get(t.name);
    if (!o) throw new UsageError(`unknown option ${t.rawName} ${again}`);
    if (o.value) {
      if (t.value === undefined) throw new UsageError(`${t.rawName} needs a value (${o.value})`);
      if (o.multiple) ((values[o.name] ??= []) as string[]).push(t.value);
      else values[o.name] = t.value;
    } else {
      if (t.inlineValue) throw new UsageError(`${t.rawName} takes no value`);
      values[o.name] = true;
    }
  }
  const help = values.help === true;
  delete values.help;
  if (!help && spec.positionals) {
    const {min, max} = spec.positionals;
    if (positionals.length > max) throw new UsageError(`unexpected argument '${positionals[max]}' ${again}`);
    if (positionals.length < min) throw new UsageError(`missing argument: usage: ${spec.usage}`);
  } else if (!help && positionals.length > 0) {
    throw new UsageError(`unexpected argument '${positionals[0]}' ${again}`);
  }
  return {values, positionals, help};
}

/** `lvsdeck CMD --help`, generated from the spec. */
export function formatHelp(spec: CommandSpec): string {
  const shown = [...spec.options.filter((o) => !o.hidden), ...(spec.passthrough ? [] : [HELP_OPTION])];
  const left = (o: OptionSpec) => `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.value ? ` ${o.value}` : ''}`;
  const width = Math.min(26, Math.max(...shown.map((o) => left(o).length)) + 2);
  const lines = [`usage: ${spec.usage}`, ''];
  if (spec.about) lines.push(spec.about.trimEnd(), '');
  if (shown.length) {
    lines.push('options:');
    for (const o of shown) {
      const l = left(o);
      const help = o.help.split('\n');
      if (l.length + 2 > width) lines.push(`  ${l}`, ...help.map((h) => `  ${' '.repeat(width)}${h}`));
      else lines.push(`  ${l.padEnd(width)}${help[0]}`, ...help.slice(1).map((h) => `  ${' '.repeat(width)}${h}`));
    }
  }
  if (spec.footer) lines.push('', spec.footer.trimEnd());
  return lines.join('\n') + '\n';
}

// ---- value readers shared by the commands: each names the option in its error

export function intValue(flag: string, v: string, lo: number, hi: number): number {
  if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) throw new UsageError(`--${flag} wants a whole number ${lo}..${hi}, got '${v}'`);
  return Number(v);
}

export function numberValue(flag: string, v: string, lo: number, hi: number, loOpen = false): number {
  const n = /^[0-9]*\.?[0-9]+(e[+-]?\d+)?$/i.test(v) ? Number(v) : NaN;
  if (!(loOpen ? n > lo : n >= lo) || !(n <= hi)) throw new UsageError(`--${flag} wants a number ${loOpen ? `> ${lo}` : `${lo}`}..${hi}, got '${v}'`);
  return n;
}

/** Run a unit parser (durations, sizes) and name the option in its error. */
export function unitValue<T>(flag: string, v: string, parse: (s: string) => T): T {
  try {
    return parse(v);
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`);
  }
}

export function stringValue(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function listValue(values: OptionValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : [];
}
