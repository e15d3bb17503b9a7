#!/usr/bin/env node
// Launcher: runs the compiled CLI in dist/ (built by `npm install`, `npm ci` or `npm run build`).
let main;
try {
  ({main} = await import('../dist/src/cli/main.js'));
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/src/cli/main.js')) throw err;
  process.stderr.write('lvsdeck: the compiled program is missing (dist/); run `npm install` or `npm run build` first\n');
  process.exit(1);
}
process.exitCode = await main(process.argv.slice(2));
