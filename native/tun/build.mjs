// Builds the optional TUN addon with node-gyp against the headers of the running Node.
// Run by `npm install`/`npm ci`: a missing compiler or header set prints one line and does not fail
// the install (the data plane then says what is missing); `--strict` (npm run build:tun) fails.
import {execFileSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const strict = process.argv.includes('--strict');

function fail(message) {
  console.error(`lvsdeck: TUN addon not built (${message}); the simulated mode works, --dataplane tun will not.`);
  process.exit(strict ? 1 : 0);
}

function findNodeGyp() {
  // npm hands its bundled node-gyp to scripts; otherwise look next to npm, then on the module path.
  const candidates = [process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')];
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch { /* not installed as a package */ }
  return candidates.find((c) => c && existsSync(c));
}

if (process.platform !== 'linux') fail('TUN devices are Linux-only here');
const nodeGyp = findNodeGyp();
if (!nodeGyp) fail('node-gyp was not found');
// Use the headers installed with this Node, so that no download is needed.
const prefix = join(dirname(process.execPath), '..');
const args = [nodeGyp, 'rebuild', '--loglevel=error'];
if (existsSync(join(prefix, 'include/node/node_api.h'))) args.push(`--nodedir=${prefix}`);
try {
  execFileSync(process.execPath, args, {cwd: here, stdio: ['ignore', 'ignore', 'pipe'], timeout: 180_000});
} catch (e) {
  const err = String(e.stderr ?? e.message ?? e).trim().split('\n').filter(Boolean).slice(-1)[0] ?? 'build failed';
  fail(err);
}
