// Start-up bundles of the state-file commands (`lvsdeck ipvsadm`, `lvsdeck sysctl`): scripts run
// them in loops, and most of their start-up was Node resolving, reading and linking ~60 compiled
// modules one by one (README.md; bench/startup.ts measures it). After tsc has built dist/, this bundles each
// command module with everything it imports statically into one file, dist/bundle/NAME-cmd.js;
// src/cli/commands.ts loads it when it exists and the module itself otherwise. Imports of packages
// stay imports, and so do dynamic imports (the --director and --kernel paths): they load the
// compiled modules in dist/src/ as before. Run by `npm run build` and bench/build-dist.ts.
import {mkdirSync, rmSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLED_COMMANDS = ['ipvsadm', 'sysctl'];
const OUT = join(ROOT, 'dist/bundle');

/** Keep every dynamic import() outside the bundle, pointing at the compiled module in dist/src/. */
const dynamicImportsStay = {
  name: 'dynamic-imports-stay',
  setup(build) {
    build.onResolve({filter: /.*/}, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const target = resolve(args.resolveDir, args.path);
      return {path: `./${relative(OUT, target)}`, external: true};
    });
  },
};

export async function bundleCli() {
  const {build} = await import('esbuild');
  rmSync(OUT, {recursive: true, force: true});
  mkdirSync(OUT, {recursive: true});
  await build({
    entryPoints: BUNDLED_COMMANDS.map((name) => join(ROOT, `dist/src/cli/${name}-cmd.js`)),
    outdir: OUT, bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external',
    plugins: [dynamicImportsStay], logLevel: 'warning', legalComments: 'none',
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await bundleCli();
