// Keeps dist/ current (vitest's globalSetup, bench/startup.ts): the end-to-end tests spawn
// bin/lvsdeck.js, which runs the compiled dist/ — what ships. Rebuild it (tsc, incremental, then
// the start-up bundles of tools/bundle-cli.mjs) when a source file is newer than the last build,
// so a targeted `npx vitest run test/x.test.ts` after an edit never tests a stale build.
import {execFileSync} from 'node:child_process';
import {existsSync, readdirSync, statSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// the build's last output: a start-up bundle (tsc's own .tsbuildinfo is not rewritten when nothing changed)
const STAMP = join(ROOT, 'dist/bundle/ipvsadm-cmd.js');
const INPUTS = ['src', 'components', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'tools/bundle-cli.mjs'];
const BUNDLER = join(ROOT, 'tools/bundle-cli.mjs');

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

export function distIsStale(): boolean {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  return INPUTS.some((p) => existsSync(join(ROOT, p)) && newestMtime(join(ROOT, p)) > built);
}

export default function setup(): void {
  if (!distIsStale()) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {cwd: ROOT, stdio: 'inherit'});
  execFileSync(process.execPath, [BUNDLER], {cwd: ROOT, stdio: 'inherit'});
}
