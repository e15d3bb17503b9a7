// The project's two structural rules, checked on the source text (docs/ARCHITECTURE.md "Layers"):
// 1. the connection table is private to src/engine (everyone else goes through engine.conns), so
//    its layout can change without touching any caller;
// 2. imports only run down the layers, type-only imports included (a cycle is an upward edge).
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {dirname, join, normalize, relative} from 'node:path';
import {describe, expect, test} from 'vitest';

const ROOT = join(dirname(new URL(import.meta.url).pathname), '..');
const SCANNED = ['src', 'components', 'bench'];

/**
 * Layers, bottom first. A module may import its own layer and any layer listed before it.
 * Entries sharing a rank are siblings and may not import each other.
 */
const LAYERS: [rank: number, layer: string][] = [
  [0, 'src/util'],
  [1, 'src/engine'],
  [2, 'src/ipvsadm'], [2, 'src/traffic'], [2, 'src/sync'],
  [3, 'src/sim'],
  [4, 'src/scenario'], [4, 'src/demo'],
  [5, 'src/store'],
  [6, 'src/ui'],
  [7, 'components'],
  // Hosts and backends: the Ink app on a terminal, the packet data plane with its lab (one
  // feature), the host kernel's IPVS.
  [8, 'src/app'], [8, 'src/dataplane'], [8, 'src/kernel'],
  // Packet capture and replay (pcap, decoding with the data plane's codec), then metrics over them.
  [9, 'src/capture'],
  [10, 'src/metrics'],
  [11, 'src/ssh'],
  [12, 'src/cli'],
  [13, 'bench'],
];
/** The UI reaches the simulation only through the Backend interface (src/store/backend.ts). */
const UI_MAY_NOT: Record<string, string[]> = {
  'src/ui': ['src/sim', 'src/sync', 'src/scenario', 'src/demo'],
  components: ['src/sim', 'src/sync', 'src/scenario', 'src/demo', 'src/traffic', 'src/ipvsadm'],
};
/** Layers folded into another for these rules. */
const SAME_AS: Record<string, string> = {'src/lab': 'src/dataplane'};

function layerOf(file: string): string {
  const parts = file.split('/');
  // Files directly under src/ (bounds.ts) are shared utilities, like src/util.
  const key = parts[0] === 'src' ? (parts.length === 2 ? 'src/util' : `src/${parts[1]}`) : parts[0]!;
  return SAME_AS[key] ?? key;
}

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(ROOT, rel)).isDirectory()) yield* sources(rel);
    else if (/\.tsx?$/.test(name)) yield rel;
  }
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

/** Relative imports of every scanned file, resolved to repository paths. */
function edges(): {from: string; to: string}[] {
  const out: {from: string; to: string}[] = [];
  for (const dir of SCANNED) {
    for (const file of sources(dir)) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[1] ?? m[2] ?? m[3]!;
        if (!spec.startsWith('.')) continue;
        out.push({from: file, to: relative(ROOT, normalize(join(ROOT, dirname(file), spec)))});
      }
    }
  }
  return out;
}

describe('the connection table is walled off inside src/engine', () => {
  test('no module outside src/engine imports conn-table.ts', () => {
    const bad = edges().filter((e) => !e.from.startsWith('src/engine/') && /src\/engine\/conn-table(\.js)?$/.test(e.to));
    expect(bad.map((e) => `${e.from} imports ${e.to}`)).toEqual([]);
  });

  test('no module outside src/engine reaches into engine.table (use engine.conns)', () => {
    const bad: string[] = [];
    for (const dir of SCANNED) {
      for (const file of sources(dir)) {
        if (file.startsWith('src/engine/')) continue;
        readFileSync(join(ROOT, file), 'utf8').split('\n').forEach((line, k) => {
          if (/\.table\b(?!\s*:)/.test(line) && !/^\s*(\/\/|\*)/.test(line)) bad.push(`${file}:${k + 1}: ${line.trim()}`);
        });
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('imports run down the layers', () => {
  const rank = new Map(LAYERS.map(([r, l]) => [l, r]));

  test('every scanned file belongs to a known layer', () => {
    const unknown = new Set<string>();
    for (const dir of SCANNED) for (const f of sources(dir)) if (!rank.has(layerOf(f))) unknown.add(layerOf(f));
    expect([...unknown]).toEqual([]);
  });

  test('no import runs up or sideways (type-only imports included), and bench never imports test/', () => {
    const bad: string[] = [];
    for (const {from, to} of edges()) {
      const a = layerOf(from), b = layerOf(to);
      if (a === b) continue;
      const ra = rank.get(a), rb = rank.get(b);
      if (ra === undefined || rb === undefined || rb >= ra) bad.push(`${from} -> ${to} (${a} -> ${b})`);
      else if (UI_MAY_NOT[a]?.includes(b)) bad.push(`${from} -> ${to} (the UI goes through the Backend)`);
    }
    expect(bad).toEqual([]);
  });

  test('the checker sees an upward import when there is one', () => {
    // Guard against a regex that silently matches nothing: the scan must find the known downward edges.
    const all = edges();
    expect(all.some((e) => e.from === 'src/sim/simulation.ts' && e.to.startsWith('src/engine/'))).toBe(true);
    expect(all.some((e) => e.from.startsWith('components/') && e.to.startsWith('src/store/'))).toBe(true);
    expect(all.length).toBeGreaterThan(200);
  });
});
