// Subcommands of the `lvsdeck` binary, loaded lazily so each pays only for what it imports
// (Ink alone costs ~0.5 s to load). Each module exports `run(args): Promise<number>` (exit code).
export type CommandModule = {run(args: string[]): Promise<number>; usage: string};

export const COMMANDS: Record<string, () => Promise<CommandModule>> = {
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
