// Subcommands of the `lvsdeck` binary: each one's spec (src/cli/specs.ts, cheap) and its module,
// loaded lazily so each command pays only for what it imports (Ink alone costs ~0.5 s to load).
// Each module exports `run(args): Promise<number>` (the exit code).
import type {CommandSpec} from './args.js';
import {COMMAND_SPECS} from './specs.js';
import {RUNNING_FROM_SOURCE} from '../util/package-root.js';

export type CommandModule = {run(args: string[]): Promise<number>};

/**
 * The compiled build also has ipvsadm and sysctl bundled into one file each (tools/bundle-cli.mjs):
 * loading one file instead of ~60 modules is most of their start-up. Use it when it is there
 * (not from the TypeScript source, where a bundle would be stale; LVSDECK_UNBUNDLED=1 loads the
 * compiled modules, which bench/startup.ts times against the bundle).
 */
function bundledOr(name: string, load: () => Promise<CommandModule>): () => Promise<CommandModule> {
  if (RUNNING_FROM_SOURCE || process.env.LVSDECK_UNBUNDLED === '1') return load;
  return async () => {
    const url = new URL(`../../bundle/${name}-cmd.js`, import.meta.url).href;
    try {
      return (await import(url)) as CommandModule;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !String((err as Error).message).includes(`bundle/${name}-cmd.js`)) throw err;
      return load();
    }
  };
}

const LOADERS: Record<string, () => Promise<CommandModule>> = {
  demo: () => import('./demo-cmd.js'),
  sync: () => import('./sync-cmd.js'),
  ui: () => import('./ui-cmd.js'),
  ipvsadm: bundledOr('ipvsadm', () => import('./ipvsadm-cmd.js')),
  sysctl: bundledOr('sysctl', () => import('./sysctl-cmd.js')),
  run: () => import('./run-cmd.js'),
  serve: () => import('./serve-cmd.js'),
  lab: () => import('./lab-cmd.js'),
  replay: () => import('./replay-cmd.js'),
};

export const COMMANDS: ReadonlyMap<string, {spec: CommandSpec; load: () => Promise<CommandModule>}> = new Map(
  COMMAND_SPECS.map((spec) => [spec.name, {spec, load: LOADERS[spec.name]!}]));
