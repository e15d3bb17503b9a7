// Ink's output stage keeps its measurements from one frame to the next. Every frame Ink turns each
// line of every text node into styled characters (tokenizing its escapes) and measures its width,
// and it caches those per frame only (Output's `caches`, created with each Output). From one frame
// to the next most lines are the same (labels, headers, addresses, unchanged rows), so here the
// caches of every Output share three maps that keep what the last frames used, bounded by the
// characters they hold. The output is the same: the cached values are what Ink would compute again,
// and Ink only reads them. This relies on Ink 6.8.0 internals (build/output.js: the Output class,
// its `get()` and its `caches` of three Maps); the version is pinned and
// test/ui-ink-output-cache.test.tsx fails if they change or if a frame comes out different.
// Loading this module installs it for every Ink instance of the process (all ssh sessions share it).
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {pathToFileURL} from 'node:url';

/**
 * A Map that keeps the entries of the current and the previous generation; a generation ends when
 * its keys reach `charLimit` characters. What a frame uses again is moved to the current one.
 */
export class RecentMap<V> extends Map<string, V> {
  private previous = new Map<string, V>();
  private chars = 0;
  constructor(private readonly charLimit: number) {
    super();
  }

  override get(key: string): V | undefined {
    const v = super.get(key);
    if (v !== undefined) return v;
    const old = this.previous.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  override set(key: string, value: V): this {
    if (this.chars + key.length > this.charLimit && super.size > 0) {
      this.previous = new Map(super.entries());
      super.clear();
      this.chars = 0;
    }
    if (!super.has(key)) this.chars += key.length;
    return super.set(key, value);
  }

  previousSize(): number {
    return this.previous.size;
  }

  override clear(): void {
    super.clear();
    this.previous.clear();
    this.chars = 0;
  }
}

interface OutputCaches {
  widths: Map<string, number>;
  blockWidths: Map<string, number>;
  styledChars: Map<string, unknown>;
}

/** About eight 140x45 frames of distinct text per generation (a styled character is ~0.1 KiB). */
const CHAR_LIMIT = 50_000;
const shared: OutputCaches = {widths: new RecentMap(CHAR_LIMIT), blockWidths: new RecentMap(CHAR_LIMIT), styledChars: new RecentMap(CHAR_LIMIT)};
let enabled = true;

const require = createRequire(import.meta.url);
const outputUrl = pathToFileURL(join(dirname(require.resolve('ink')), 'output.js')).href;
const {default: Output} = (await import(outputUrl)) as {default: {prototype: {get(): unknown}}};
const get = Output.prototype.get;
if (typeof get !== 'function') throw new Error(`ink-output-cache: ${outputUrl} has no Output.prototype.get (Ink changed)`);
Output.prototype.get = function (this: {caches: OutputCaches}) {
  if (enabled) {
    const c = this.caches;
    if (!(c?.widths instanceof Map && c.blockWidths instanceof Map && c.styledChars instanceof Map)) {
      throw new Error('ink-output-cache: Output.caches is not three Maps (Ink changed)');
    }
    c.widths = shared.widths;
    c.blockWidths = shared.blockWidths;
    c.styledChars = shared.styledChars;
  }
  return get.call(this);
};

/** Lines whose styled characters are kept (current and previous generation). */
export function inkOutputCacheLines(): number {
  return shared.styledChars.size + (shared.styledChars as RecentMap<unknown>).previousSize();
}

/** Turn the sharing off or on (the benchmark draws the pre-change components without it). */
export function setInkOutputCache(on: boolean): void {
  enabled = on;
}
