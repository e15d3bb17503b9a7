// The contract src/ui/charts.ts has with the chart libraries. It borrows blessed-contrib widget
// internals (there is no public way to get a drawing as text): these tests fail when the installed
// library is not the one the adapter was written for, lacks what it uses, or draws differently,
// and when a package it loads is not declared in package.json at the locked version.
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {describe, expect, test} from 'vitest';
import {renderLineChart, renderStackGauge, stripAnsi, WIDGET_MODULES} from '../src/ui/charts.js';

const require = createRequire(import.meta.url);
const ROOT = new URL('..', import.meta.url);
const readJson = (rel: string) => JSON.parse(readFileSync(new URL(rel, ROOT), 'utf8'));

describe('chart libraries contract (src/ui/charts.ts)', () => {
  test('the widgets are blessed-contrib 4.11.0\'s public contrib.line and contrib.gauge, with the internals the adapter calls', () => {
    expect(readJson('node_modules/blessed-contrib/package.json').version).toBe('4.11.0');
    const contrib = require('blessed-contrib');
    const line = require(WIDGET_MODULES.line), gauge = require(WIDGET_MODULES.gauge);
    expect(line).toBe(contrib.line);
    expect(gauge).toBe(contrib.gauge);
    for (const W of [line, gauge]) {
      expect(typeof W.prototype.calcSize).toBe('function');
      expect(typeof W.prototype.setData).toBe('function');
    }
    const {Canvas} = require('drawille-canvas-blessed-contrib');
    const ctx = new Canvas(8, 8).getContext();
    expect(typeof ctx._canvas.frame).toBe('function');
  });

  test('a line chart and a stacked gauge come out exactly as blessed-contrib 4.11.0 draws them', () => {
    const lines = renderLineChart([{y: [0, 2, 5, 3, 8, 6, 9, 4], color: 'red'}, {y: [1, 1, 2, 2, 3, 3, 2, 2], color: 'cyan'}], 24, 6);
    expect(lines.map(stripAnsi)).toEqual([
      '8 ⡇          ⢀⢄   ⡠⠊⢆   ',
      '6 ⡇         ⢀⠎ ⠉⠢⠊  ⠈⢆  ',
      '4 ⡇    ⡠⠊⠢⢄⢠⠃        ⠈⠆ ',
      '2 ⡇  ⡠⢊⣀⠤⠤⠤⠥⠒⠊⠉⠉⠉⠑⠒⠤⠤⠤⠄ ',
      '0 ⡇⡩⠋⠉⠁                 ',
      '  ⠓⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒⠒',
    ]);
    // colours: labels cyan, axis white, each series in its colour where it is drawn last
    expect(lines[3]).toBe('\x1b[36m2 \x1b[37m⡇  \x1b[31m⡠\x1b[36m⢊⣀⠤⠤⠤⠥⠒⠊⠉⠉⠉⠑⠒⠤⠤⠤⠄ \x1b[39;49m');
    const g = renderStackGauge([{fraction: 0.5, color: 'white'}, {fraction: 0.25, color: 'green'}, {fraction: 0.25, color: 'red'}], 20);
    expect(g).toEqual(Array(2).fill(' \x1b[47m        \x1b[42m    \x1b[41m      \x1b[49m \x1b[39;49m'));
  });

  test('every package the adapter loads is a dependency in package.json, at the version the lockfile holds', () => {
    const src = readFileSync(new URL('src/ui/charts.ts', ROOT), 'utf8');
    const loaded = [...src.matchAll(/require\('([^'.][^']*)'\)/g)].map((m) => m[1]!)
      .concat(Object.values(WIDGET_MODULES)).map((spec) => spec.split('/')[0]!);
    expect(new Set(loaded)).toEqual(new Set(['blessed-contrib', 'drawille-canvas-blessed-contrib', 'ansi-term', 'sparkline']));
    const pkg = readJson('package.json'), lock = readJson('package-lock.json');
    // blessed-contrib's widgets load blessed itself, which it does not list as a dependency
    for (const name of [...loaded, 'blessed']) {
      expect(pkg.dependencies[name], name).toBe(lock.packages[`node_modules/${name}`].version);
    }
  });
});
