// Files that ship beside the code (the native addon, the lab's server script) are found from the
// package root, the same whether this code runs from the TypeScript source (src/) or from the
// compiled build (dist/src/): the nearest directory above with a package.json.
import {existsSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

function packageRootAbove(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) throw new Error(`no package.json above ${dir}`);
  }
}

export const PACKAGE_ROOT = packageRootAbove(dirname(fileURLToPath(import.meta.url)));

/** True when this module runs from the TypeScript source (tests, tsx), false in the compiled build. */
export const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');
