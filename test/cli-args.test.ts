// Every subcommand's arguments are read by node:util.parseArgs from one spec per command
// (src/cli/specs.ts), and the same spec writes its --help: what is accepted is what is documented.
import {spawnSync} from 'node:child_process';
import {join} from 'node:path';
import {describe, expect, it, vi} from 'vitest';
import {type CommandSpec, formatHelp, parseCommandArgs, UsageError} from '../src/cli/args.js';
import {COMMAND_SPECS} from '../src/cli/specs.js';
import {syncHostOptions} from '../src/cli/sync-args.js';
import {parseDemoArgs} from '../src/cli/demo-cmd.js';
import {parseSyncArgs} from '../src/cli/sync-cmd.js';
import {readBackendChoice} from '../src/cli/backend-args.js';
import {parseServeArgs} from '../src/cli/serve-cmd.js';

const ROOT = join(import.meta.dirname, '..');
const lvsdeck = (...args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'bin/lvsdeck.js'), ...args], {cwd: ROOT, encoding: 'utf8', env: {...process.env, CI: ''}});

const SPEC: CommandSpec = {
  name: 'x', summary: 's', usage: 'lvsdeck x [options]',
  options: [
    {name: 'for', value: 'TIME', help: 'how long'},
    {name: 'mono', help: 'no colours'},
    {name: 'tag', short: 't', value: 'T', multiple: true, help: 'a tag'},
    {name: 'secret', hidden: true, help: 'not listed'},
  ],
};

describe('parseCommandArgs', () => {
  it('reads values, flags, --name=value, short options, repeats and --help', () => {
    expect(parseCommandArgs(SPEC, ['--for', '5s', '--mono', '-t', 'a', '--tag=b'])).toEqual({
      values: {for: '5s', mono: true, tag: ['a', 'b']}, positionals: [], help: false});
    expect(parseCommandArgs(SPEC, ['--for=-1']).values.for).toBe('-1');
    expect(parseCommandArgs(SPEC, ['-h']).help).toBe(true);
  });

  it('rejects with a specific message: unknown option, missing value, value on a flag, stray argument', () => {
    const err = (args: string[]) => {
      try { parseCommandArgs(SPEC, args); } catch (e) { expect(e).toBeInstanceOf(UsageError); return (e as Error).message; }
      return 'no error';
    };
    expect(err(['--bogus'])).toBe('unknown option --bogus (try lvsdeck x --help)');
    expect(err(['--for'])).toBe('--for needs a value (TIME)');
    expect(err(['--mono=yes'])).toBe('--mono takes no value');
    expect(err(['extra'])).toBe("unexpected argument 'extra' (try lvsdeck x --help)");
  });

  it('counts positionals against the spec', () => {
    const one: CommandSpec = {...SPEC, positionals: {min: 1, max: 1}};
    expect(parseCommandArgs(one, ['f.yaml', '--mono']).positionals).toEqual(['f.yaml']);
    expect(() => parseCommandArgs(one, [])).toThrow(/missing argument/);
    expect(() => parseCommandArgs(one, ['a', 'b'])).toThrow(/unexpected argument 'b'/);
  });
});

describe('help from the spec', () => {
  it('lists every visible option of every command, and -h/--help, and hides the hidden ones', () => {
    for (const spec of COMMAND_SPECS) {
      const help = formatHelp(spec);
      expect(help.startsWith(`usage: ${spec.usage}\n`), spec.name).toBe(true);
      for (const o of spec.options) expect(help.includes(`--${o.name}`), `${spec.name} --${o.name}`).toBe(!o.hidden);
      if (!spec.passthrough) expect(help, spec.name).toContain('-h, --help');
    }
    expect(formatHelp(SPEC)).not.toContain('--secret');
  });

  it('replay names the capture reader\'s own frame limit as its --max-packets default', async () => {
    const {DEFAULT_MAX_FRAMES} = await import('../src/capture/replay.js');
    expect(formatHelp(COMMAND_SPECS.find((s) => s.name === 'replay')!)).toContain(`(default ${DEFAULT_MAX_FRAMES})`);
  });

  it('every option name is unique within its command', () => {
    for (const spec of COMMAND_SPECS) {
      const names = spec.options.map((o) => o.name);
      expect(new Set(names).size, spec.name).toBe(names.length);
    }
  });
});

describe('command option readers', () => {
  it('demo: durations, flood rate and seed, with the option named in each error', () => {
    expect(parseDemoArgs(['--for', '400s', '--every', '10s', '--synflood', '5000'])).toEqual({total: 400_000, every: 10_000, flood: 5000, seed: 1});
    expect(() => parseDemoArgs(['--for', 'soon'])).toThrow(/^--for: bad time 'soon'/);
    expect(() => parseDemoArgs(['--synflood', 'lots'])).toThrow(/^--synflood wants a number/);
  });

  it('sync: the role is the one positional; repeatable --traffic and --sysctl keep their order', () => {
    const o = parseSyncArgs(['backup', '--sysctl', 'sync_version=0', '--sysctl', 'backup_only=1', '--syncid', '7']);
    expect(o).toMatchObject({role: 'backup', syncId: 7, sysctls: [['sync_version', '0'], ['backup_only', '1']]});
    expect(() => parseSyncArgs(['primary'])).toThrow(/master or backup/);
    expect(() => parseSyncArgs(['master', '--traffic', '{nope'])).toThrow(/--traffic: not JSON/);
    expect(() => parseSyncArgs(['master', '--syncid', '256'])).toThrow(/--syncid wants a whole number 0\.\.255/);
  });

  it('ui and serve share the sync flags', () => {
    const values = parseCommandArgs(COMMAND_SPECS.find((s) => s.name === 'ui')!, ['--sync', 'master', '--sync', 'backup', '--syncid', '3']).values;
    expect(syncHostOptions(values)).toEqual({roles: ['master', 'backup'], syncId: 3});
    expect(() => syncHostOptions({sync: ['primary']})).toThrow(/--sync wants master or backup/);
  });
});

describe('the backend of ui and serve: --kernel, --dataplane tun, and what does not go with them', () => {
  const ui = (...args: string[]) => readBackendChoice(parseCommandArgs(COMMAND_SPECS.find((c) => c.name === 'ui')!, args).values);
  const serve = (...args: string[]) => parseServeArgs(['--host-key', 'k', '--authorized-keys', 'ak', ...args]);

  it('the choices', () => {
    expect(ui()).toEqual({kind: 'simulation'});
    expect(ui('--kernel')).toEqual({kind: 'kernel', allowWrites: false});
    expect(ui('--kernel', '--allow-writes')).toEqual({kind: 'kernel', allowWrites: true});
    expect(ui('--dataplane', 'tun', '--dev', 'tun7', '--memory', 'host')).toEqual({kind: 'dataplane', dev: 'tun7', hostMemory: true});
    expect(serve('--kernel', '--allow-writes')).toMatchObject({backend: {kind: 'kernel', allowWrites: true}});
    expect(serve('--dataplane', 'tun', '--memory', 'host')).toMatchObject({backend: {kind: 'dataplane', hostMemory: true}, memoryGiven: false});
    expect(serve('--dataplane', 'tun', '--memory', '64MiB')).toMatchObject({backend: {kind: 'dataplane', hostMemory: false}, memoryGiven: true});
  });

  it('invalid combinations are refused in one line, the same for ui and serve', () => {
    const cases: [string[], RegExp][] = [
      [['--allow-writes'], /^--allow-writes goes with --kernel$/],
      [['--kernel', '--dataplane', 'tun'], /^--kernel and --dataplane are two different backends: choose one$/],
      [['--kernel', '--dev', 'x'], /^--kernel and --dataplane are two different backends/],
      [['--kernel', '--config', 'f.yaml', '--speed', '10'], /^--kernel shows the running kernel's own configuration, sync daemons and wall-clock time: drop --config, --speed$/],
      [['--kernel', '--seed', '3'], /drop --seed$/],
      [['--kernel', '--sync', 'backup', '--sync-allow', '10.0.0.1'], /drop --sync, --sync-allow$/],
      [['--kernel', '--metrics', '127.0.0.1:0'], /drop --metrics$/],
      [['--dataplane', 'tun', '--speed', '2'], /^--dataplane runs on wall-clock time: drop --speed$/],
      [['--dataplane', 'dpdk'], /^--dataplane: only 'tun' is supported, not 'dpdk'$/],
      [['--dev', 'x'], /^--dev and --memory host go with --dataplane tun$/],
      [['--memory', 'host'], /^--dev and --memory host go with --dataplane tun$/],
    ];
    for (const [args, re] of cases) {
      expect(() => ui(...args), args.join(' ')).toThrow(UsageError);
      expect(() => ui(...args), args.join(' ')).toThrow(re);
      expect(() => serve(...args), args.join(' ')).toThrow(re);
    }
    expect(() => ui('--kernel', '--replay', 'x.pcap')).toThrow(/drop --replay$/);
  });

  it('the command line says so, exit status 2, nothing started', () => {
    const r = lvsdeck('serve', '--host-key', '/nonexistent/k', '--authorized-keys', '/nonexistent/ak', '--kernel', '--dataplane', 'tun');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('lvsdeck serve: --kernel and --dataplane are two different backends: choose one\n');
    const u = lvsdeck('ui', '--kernel', '--speed', '5');
    expect(u.status).toBe(2);
    expect(u.stderr).toBe('lvsdeck: --kernel shows the running kernel\'s own configuration, sync daemons and wall-clock time: drop --speed\n');
  });
});

describe('--sync-allow: lvsdeck sync, and the --sync flags of ui and serve, read alike', () => {
  it('an allowed peer list is kept; a bad entry is named', () => {
    const uiValues = (...args: string[]) => parseCommandArgs(COMMAND_SPECS.find((c) => c.name === 'ui')!, args).values;
    expect(syncHostOptions(uiValues('--sync', 'backup', '--sync-allow', '10.0.0.1', '--sync-allow', '192.0.2.0/24')))
      .toEqual({roles: ['backup'], allowedPeers: ['10.0.0.1', '192.0.2.0/24']});
    expect(parseServeArgs(['--host-key', 'k', '--authorized-keys', 'ak', '--sync', 'backup', '--sync-allow', 'fd00:18::/48']))
      .toMatchObject({sync: {roles: ['backup'], allowedPeers: ['fd00:18::/48']}});
    expect(parseSyncArgs(['backup', '--sync-allow', '10.0.0.1'])).toMatchObject({allowedPeers: ['10.0.0.1']});
    const bad = /^--sync-allow: bad allowed peer '10\.0\.0\.300' \(an address or a block like 10\.1\.0\.0\/24\)$/;
    expect(() => syncHostOptions(uiValues('--sync-allow', '10.0.0.300'))).toThrow(bad);
    expect(() => parseServeArgs(['--host-key', 'k', '--authorized-keys', 'ak', '--sync-allow', '10.0.0.300'])).toThrow(bad);
    expect(() => parseSyncArgs(['backup', '--sync-allow', '10.0.0.300'])).toThrow(bad);
  });
});

describe('help loads no command module', () => {
  it('lvsdeck --help and lvsdeck demo --help come from the specs alone', async () => {
    vi.resetModules();
    const loaded: string[] = [];
    for (const {name} of COMMAND_SPECS) {
      vi.doMock(`../src/cli/${name}-cmd.js`, () => { loaded.push(name); return {run: async () => 0}; });
    }
    const {main} = await import('../src/cli/main.js');
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['--help'])).toBe(0);
      expect(await main(['demo', '--help'])).toBe(0);
      expect(await main(['serve', '-h'])).toBe(0);
      expect(loaded).toEqual([]);
      expect(await main(['demo', '--for', '1s'])).toBe(0); // the control: running a command loads it
    } finally {
      out.mockRestore();
      for (const {name} of COMMAND_SPECS) vi.doUnmock(`../src/cli/${name}-cmd.js`);
      vi.resetModules();
    }
    expect(loaded).toEqual(['demo']);
  });
});

describe('the compiled binary', () => {
  it('every subcommand answers --help on stdout with status 0 (ipvsadm and sysctl: their own help)', () => {
    for (const spec of COMMAND_SPECS) {
      const r = lvsdeck(spec.name, '--help');
      expect(r.status, `${spec.name}: ${r.stderr}`).toBe(0);
      if (spec.passthrough) expect(r.stdout, spec.name).toMatch(/Usage:/);
      else expect(r.stdout, spec.name).toBe(formatHelp(spec));
    }
  });

  it('a bad option is a usage error (status 2) that names the option, and runs nothing', () => {
    const r = lvsdeck('demo', '--for', '10s', '--bogus');
    expect(r).toMatchObject({status: 2, stdout: '', stderr: 'lvsdeck demo: unknown option --bogus (try lvsdeck demo --help)\n'});
    expect(lvsdeck('run').stderr).toMatch(/^lvsdeck run: missing argument/);
    expect(lvsdeck('--fps', '99').stderr).toBe("lvsdeck: --fps wants a whole number 1..30, got '99'\n");
    expect(lvsdeck('sync', 'master', '--metrics', 'nowhere:x')).toMatchObject({status: 2, stderr: expect.stringMatching(/^lvsdeck sync: --metrics wants/)});
    expect(lvsdeck('replay', 'x.pcap', '--speed', '2', '--as-fast-as-possible').stderr).toBe('lvsdeck replay: --speed and --as-fast-as-possible exclude each other\n');
  });
});
