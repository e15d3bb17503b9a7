// sysctl(8) over net.ipv4.vs.*: line format, -a sorted, writes validated by the kernel handlers,
// procps messages and exit status.
import {describe, expect, it} from 'vitest';
import {Engine} from '../src/engine/engine.js';
import {TUNABLES} from '../src/engine/tunables.js';
import {runSysctl, sysctlAll, tunableName} from '../src/ipvsadm/sysctl.js';

describe('sysctl', () => {
  it('prints NAME = VALUE and -n the value only', () => {
    const e = new Engine();
    expect(runSysctl(e, ['net.ipv4.vs.drop_entry'])).toEqual({stdout: 'net.ipv4.vs.drop_entry = 0\n', stderr: '', code: 0, mutated: false});
    expect(runSysctl(e, ['-n', 'net.ipv4.vs.amemthresh']).stdout).toBe('1024\n');
    expect(runSysctl(e, ['net/ipv4/vs/conn_reuse_mode']).stdout).toBe('net.ipv4.vs.conn_reuse_mode = 1\n');
    expect(runSysctl(e, ['net.ipv4.vs.sync_threshold']).stdout).toBe('net.ipv4.vs.sync_threshold = 3\t50\n');
  });

  it('-a lists every IPVS sysctl sorted by name', () => {
    const e = new Engine();
    const lines = runSysctl(e, ['-a']).stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(TUNABLES.length);
    const names = lines.map((l) => l.split(' = ')[0]!);
    expect(names).toEqual([...names].sort());
    expect(lines).toContain('net.ipv4.vs.am_droprate = 10');
    expect(lines).toContain('net.ipv4.vs.expire_nodest_conn = 0');
    expect(runSysctl(e, ['-a']).stdout).toBe(sysctlAll(e));
  });

  it('-w writes and echoes the value as given; NAME=VALUE works without -w', () => {
    const e = new Engine();
    expect(runSysctl(e, ['-w', 'net.ipv4.vs.expire_nodest_conn=1'])).toEqual({stdout: 'net.ipv4.vs.expire_nodest_conn = 1\n', stderr: '', code: 0, mutated: true});
    expect(e.readTunable('expire_nodest_conn')).toBe('1');
    expect(runSysctl(e, ['net.ipv4.vs.conn_reuse_mode=0']).code).toBe(0);
    expect(runSysctl(e, ['-q', '-w', 'net.ipv4.vs.conn_reuse_mode=2']).stdout).toBe('');
    expect(e.readTunable('conn_reuse_mode')).toBe('2');
  });

  it('a value the kernel rejects: "setting key ...: Invalid argument", status 255, value kept', () => {
    const e = new Engine();
    expect(runSysctl(e, ['-w', 'net.ipv4.vs.drop_entry=4'])).toEqual({
      stdout: '', stderr: 'sysctl: setting key "net.ipv4.vs.drop_entry": Invalid argument\n', code: 255, mutated: false,
    });
    expect(e.readTunable('drop_entry')).toBe('0');
    expect(runSysctl(e, ['-w', 'net.ipv4.vs.sync_threshold=50 50']).code).toBe(255);
  });

  it('unknown keys: "cannot stat", status 255; -e ignores them', () => {
    const e = new Engine();
    expect(runSysctl(e, ['net.ipv4.vs.nosuch'])).toMatchObject({code: 255, stderr: 'sysctl: cannot stat /proc/sys/net/ipv4/vs/nosuch: No such file or directory\n'});
    expect(runSysctl(e, ['net.ipv4.ip_forward']).stderr).toBe('sysctl: cannot stat /proc/sys/net/ipv4/ip_forward: No such file or directory\n');
    expect(runSysctl(e, ['-e', 'net.ipv4.vs.nosuch'])).toMatchObject({code: 0, stderr: ''});
    expect(runSysctl(e, ['-w', 'net.ipv4.vs.drop_entry'])).toMatchObject({code: 255, stderr: 'sysctl: "net.ipv4.vs.drop_entry" must be of the form name=value\n'});
  });

  it('-p loads settings from a file, skipping comments', () => {
    const e = new Engine();
    const r = runSysctl(e, ['-p', 'x.conf'], {readFile: () => '# c\nnet.ipv4.vs.conntrack = 1\n; x\nnet.ipv4.vs.am_droprate=5\n'});
    expect(r.stdout).toBe('net.ipv4.vs.conntrack = 1\nnet.ipv4.vs.am_droprate = 5\n');
    expect([e.readTunable('conntrack'), e.readTunable('am_droprate')]).toEqual(['1', '5']);
  });

  it('tunableName accepts short names only when asked (scenario files)', () => {
    expect(tunableName('drop_entry')).toBeNull();
    expect(tunableName('drop_entry', true)).toBe('drop_entry');
    expect(tunableName('net.ipv4.vs.drop_entry')).toBe('drop_entry');
    expect(tunableName('net.ipv4.drop_entry', true)).toBeNull();
  });
});
