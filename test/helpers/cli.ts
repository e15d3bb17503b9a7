// Running the real `lvsdeck` binary from tests: exit status, stdout and stderr.
import {spawn} from 'node:child_process';
import {join} from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'lvsdeck.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function lvsdeck(args: string[], opts: {input?: string; env?: NodeJS.ProcessEnv} = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {cwd: ROOT, env: {...process.env, ...opts.env}});
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({code: code ?? -1, stdout, stderr}));
    child.stdin.end(opts.input ?? '');
  });
}
