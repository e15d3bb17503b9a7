// Subcommands of the `lvsdeck` binary: each one's spec (src/cli/specs.ts, cheap) and its module,
// loaded lazily so each command pays only for what it imports (Ink alone costs ~0.5 s to load).
// Each module exports `run(args): Promise<number>` (the exit code).
import type {CommandSpec} from './args.js';
import {COMMAND_SPECS} from './specs.js';

export type CommandModule = {run(args: string[]): Promise<number>};

const LOADERS: Record<string, () => Promise<CommandModule>> = {
  demo: () => import('./demo-cmd.js'),
  sync: () => import('./sync-cmd.js'),
  ui: () => import('./ui-cmd.js'),
  ipvsadm: () => import('./ipvsadm-cmd.js'),
  sysctl: () => import('./sysctl-cmd.js'),
  run: () => import('./run-cmd.js'),
  serve: () => import('./serve-cmd.js'),
  lab: () => import('./lab-cmd.js'),
  replay: () => import('./replay-cmd.js'),
};

export const COMMANDS: ReadonlyMap<string, {spec: CommandSpec; load: () => Promise<CommandModule>}> = new Map(
  COMMAND_SPECS.map((spec) => [spec.name, {spec, load: LOADERS[spec.name]!}]));
