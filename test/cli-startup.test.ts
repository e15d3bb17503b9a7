// What the shipped binary loads at start-up (bench/startup.ts times it): `--help` reads the command
// specs and no command module; `ipvsadm -Ln` on a state file loads its one-file bundle
// (tools/bundle-cli.mjs) instead of the compiled modules one by one, and never the UI (Ink, React),
// ssh2, yaml or node:crypto. Each module the process loads is recorded by a module-loader hook.
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {pathToFileURL} from 'node:url';
import {afterAll, describe, expect, test} from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/lvsdeck.js');
const dir = mkdtempSync(join(tmpdir(), 'lvsdeck-startup-test-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));

writeFileSync(join(dir, 'hooks.mjs'), "export async function load(url, ctx, next) { process.stderr.write(`LOADED ${url}\\n`); return next(url, ctx); }\n");
writeFileSync(join(dir, 'register.mjs'), `import {register} from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);

/** Run the binary; its output and every module (file or node: builtin) it loaded, relative to the package. */
function run(...args: string[]): {code: number | null; stdout: string; loaded: string[]} {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, BIN, ...args], {cwd: ROOT, encoding: 'utf8'});
  const loaded = [...r.stderr.matchAll(/^LOADED (.*)$/gm)].map((m) => m[1]!.replace(pathToFileURL(ROOT).href + '/', ''));
  return {code: r.status, stdout: r.stdout, loaded};
}

describe('start-up of the shipped binary', () => {
  test('--help loads the specs and no command module', () => {
    const r = run('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: lvsdeck');
    expect(r.loaded).toContain('dist/src/cli/specs.js');
    expect(r.loaded.filter((u) => /-cmd\.js$/.test(u))).toEqual([]);
    expect(r.loaded.filter((u) => u.includes('node_modules/'))).toEqual([]);
  });

  test('ipvsadm -Ln loads its bundle, not the compiled modules one by one, and nothing of the UI, ssh, yaml or crypto', () => {
    const state = join(dir, 'state.json');
    expect(run('ipvsadm', '--state', state, '-A', '-t', '10.0.0.1:80', '-s', 'wlc').code).toBe(0);
    const r = run('ipvsadm', '--state', state, '-Ln');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('TCP  10.0.0.1:80 wlc');
    expect(r.loaded).toContain('dist/bundle/ipvsadm-cmd.js');
    // the launcher and the dispatcher (main, args, commands, specs, package-root), then the bundle
    expect(r.loaded.filter((u) => u.startsWith('dist/src/')).length).toBeLessThanOrEqual(5);
    expect(r.loaded.filter((u) => u.includes('dist/src/engine/') || u.includes('dist/src/ipvsadm/'))).toEqual([]);
    expect(r.loaded.filter((u) => /node_modules\/(ink|react|ssh2|yaml)\//.test(u))).toEqual([]);
    expect(r.loaded).not.toContain('node:crypto');
  });
});
