import {existsSync, readFileSync} from 'node:fs';
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {TUNABLES, Tunables, findTunable, type TunableDef, type WriteResult} from '../src/engine/tunables.js';

/** The 32 sysctls of ip_vs_ctl.c's vs_vars[] minus the nf-next variants conn_lfactor and svc_lfactor. */
const EXPECTED_DEFAULTS: Record<string, string> = {
  am_droprate: '10',
  amemthresh: '1024',
  backup_only: '0',
  cache_bypass: '0',
  conn_reuse_mode: '1',
  conntrack: '0',
  debug_level: '0',
  drop_entry: '0',
  drop_packet: '0',
  est_cpulist: '0-1',
  est_nice: '0',
  expire_nodest_conn: '0',
  expire_quiescent_template: '0',
  ignore_tunneled: '0',
  lblc_expiration: '86400',
  lblcr_expiration: '86400',
  nat_icmp_send: '0',
  pmtu_disc: '1',
  run_estimation: '1',
  schedule_icmp: '0',
  secure_tcp: '0',
  sloppy_sctp: '0',
  sloppy_tcp: '0',
  snat_reroute: '1',
  sync_persist_mode: '0',
  sync_ports: '1',
  sync_qlen_max: '4096',
  sync_refresh_period: '0',
  sync_retries: '0',
  sync_sock_size: '0',
  sync_threshold: '3\t50',
  sync_version: '1',
};

/** The 17 entries of the old ipvs-sysctl.txt. */
const SEED_NAMES = [
  'am_droprate', 'amemthresh', 'backup_only', 'cache_bypass', 'conn_reuse_mode', 'conntrack', 'debug_level',
  'drop_entry', 'drop_packet', 'expire_nodest_conn', 'expire_quiescent_template', 'nat_icmp_send', 'secure_tcp',
  'snat_reroute', 'sync_persist_mode', 'sync_threshold', 'sync_version',
];

const HANDLER_OF_KIND: Record<TunableDef['kind'], string> = {
  int: 'proc_dointvec',
  bool: 'proc_dointvec',
  defense: 'proc_do_defense_mode',
  minmax: 'proc_dointvec_minmax',
  jiffies: 'proc_dointvec_jiffies',
  ulong: 'proc_doulongvec_minmax',
  sync_threshold: 'proc_do_sync_threshold',
  sync_ports: 'proc_do_sync_ports',
  est_nice: 'ipvs_proc_est_nice',
  run_estimation: 'ipvs_proc_run_estimation',
  cpulist: 'ipvs_proc_est_cpulist',
};

function recorder(opts: {cpuCount?: number; syncQlenMaxDefault?: number} = {}) {
  const calls: string[] = [];
  const t = new Tunables({...opts, onChange: (n) => calls.push(n)});
  return {t, calls};
}

function expectRejected(r: WriteResult, errno: 'EINVAL' | 'ERANGE' | 'ENOENT'): void {
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.errno).toBe(errno);
}

function sentences(text: string): string[] {
  return text.split(/[.!?](?:\s+|$)/).filter((s) => s.trim().length > 0);
}

describe('catalogue', () => {
  it('holds the 32 mainline sysctls (17 of the old ipvs-sysctl.txt plus the newer ones), sorted by name', () => {
    const names = TUNABLES.map((d) => d.name);
    expect(names).toHaveLength(32);
    expect(names).toEqual(Object.keys(EXPECTED_DEFAULTS).sort());
    expect([...names].sort()).toEqual(names);
    for (const n of SEED_NAMES) expect(names).toContain(n);
    expect(names).not.toContain('conn_lfactor');
    expect(names).not.toContain('svc_lfactor');
    expect(new Tunables().names()).toEqual(names);
  });

  it('every entry names the handler of its kind and carries complete texts', () => {
    const categories = ['defense', 'connections', 'scheduling', 'sync', 'estimator', 'forwarding', 'debug'];
    for (const d of TUNABLES) {
      expect(d.handler, d.name).toBe(HANDLER_OF_KIND[d.kind]);
      expect(categories, d.name).toContain(d.category);
      expect(d.summary.length, d.name).toBeGreaterThan(10);
      expect(d.summary.length, `${d.name} summary too long`).toBeLessThanOrEqual(70);
      expect(d.summary, d.name).not.toContain('\n');
      const n = sentences(d.help).length;
      expect(n, `${d.name} help has ${n} sentences`).toBeGreaterThanOrEqual(2);
      expect(n, `${d.name} help has ${n} sentences`).toBeLessThanOrEqual(5);
      expect(d.allowed.length, d.name).toBeGreaterThan(2);
      expect(sentences(d.rule).length, `${d.name} rule`).toBe(1);
    }
  });

  it('the defense modes, minmax and nice bounds are recorded as the handlers enforce them', () => {
    for (const n of ['drop_entry', 'drop_packet', 'secure_tcp']) {
      const d = findTunable(n)!;
      expect([d.kind, d.min, d.max]).toEqual(['defense', 0, 3]);
    }
    expect([findTunable('sync_version')!.min, findTunable('sync_version')!.max]).toEqual([0, 1]);
    expect([findTunable('sync_retries')!.min, findTunable('sync_retries')!.max]).toEqual([0, 3]);
    expect([findTunable('est_nice')!.min, findTunable('est_nice')!.max]).toEqual([-20, 19]);
    expect(findTunable('lblc_expiration')!.max).toBe(2147483);
    expect(findTunable('backup_only')!.kind).toBe('bool');
    expect(findTunable('backup_only')!.min).toBeUndefined();
  });

  it('defaultText matches what a fresh store reads back', () => {
    const t = new Tunables();
    for (const d of TUNABLES) expect(t.read(d.name), d.name).toBe(d.defaultText);
  });

  // The kernel's own sysctl documentation (Documentation/networking/ipvs-sysctl.rst, or the older
  // ipvs-sysctl.txt) is not part of this repository; point LVSDECK_KERNEL_SYSCTL_DOC at a copy to
  // check that our help texts are written in our own words.
  const seedPath = process.env.LVSDECK_KERNEL_SYSCTL_DOC ?? '';
  it.skipIf(!seedPath || !existsSync(seedPath))('help texts do not reuse wording of the kernel sysctl doc (no 8-word run in common)', () => {
    const words = (s: string) => s.toLowerCase().replace(/[^a-z0-9_/ ]+/g, ' ').split(/\s+/).filter(Boolean);
    const seed = words(readFileSync(seedPath, 'utf8'));
    const grams = new Set<string>();
    for (let i = 0; i + 8 <= seed.length; i++) grams.add(seed.slice(i, i + 8).join(' '));
    for (const d of TUNABLES) {
      for (const field of [d.summary, d.help, d.rule, d.allowed]) {
        const w = words(field);
        for (let i = 0; i + 8 <= w.length; i++) {
          const g = w.slice(i, i + 8).join(' ');
          expect(grams.has(g), `${d.name}: "${g}" copied from the kernel doc`).toBe(false);
        }
      }
    }
  });
});

describe('findTunable', () => {
  it('accepts the bare name, the dotted sysctl name and the slash path', () => {
    for (const n of ['drop_entry', 'net.ipv4.vs.drop_entry', 'net/ipv4/vs/drop_entry', '/proc/sys/net/ipv4/vs/drop_entry']) {
      expect(findTunable(n)?.name, n).toBe('drop_entry');
    }
  });

  it('returns undefined for unknown names, other trees and the nf-next variants', () => {
    expect(findTunable('nope')).toBeUndefined();
    expect(findTunable('net.ipv4.tcp_syncookies')).toBeUndefined();
    expect(findTunable('net.ipv4.vs.conn_lfactor')).toBeUndefined();
    expect(findTunable('timeout_established')).toBeUndefined();
  });

  it('read and write accept the full sysctl name too', () => {
    const t = new Tunables();
    expect(t.write('net.ipv4.vs.am_droprate', '20')).toEqual({ok: true, changed: true});
    expect(t.read('net/ipv4/vs/am_droprate')).toBe('20');
    expect(t.v.am_droprate).toBe(20);
  });

  it('unknown names: read throws, write fails with ENOENT', () => {
    const t = new Tunables();
    expect(() => t.read('timeout_tcp')).toThrow(/timeout_tcp/);
    const r = t.write('timeout_tcp', '5');
    expectRejected(r, 'ENOENT');
    if (!r.ok) expect(r.error).toMatch(/^timeout_tcp: .*\(ENOENT\)$/);
  });
});

describe('default read-back (cat /proc/sys/net/ipv4/vs/*)', () => {
  const t = new Tunables();
  for (const [name, text] of Object.entries(EXPECTED_DEFAULTS)) {
    it(`${name} reads ${JSON.stringify(text)}`, () => {
      expect(t.read(name)).toBe(text);
    });
  }

  it('the numeric view holds the same defaults, jiffies in milliseconds', () => {
    expect(t.v.sync_threshold).toBe(3);
    expect(t.v.sync_period).toBe(50);
    expect(t.v.lblc_expiration).toBe(86_400_000);
    expect(t.v.lblcr_expiration).toBe(86_400_000);
    expect(t.v.sync_refresh_period).toBe(0);
    expect(t.v.amemthresh).toBe(1024);
    expect(t.v.est_cpulist_count).toBe(2);
    expect('est_cpulist' in t.v).toBe(false);
  });

  it('host options: est_cpulist defaults to all CPUs, sync_qlen_max to the given value', () => {
    const t4 = new Tunables({cpuCount: 4, syncQlenMaxDefault: 12345});
    expect(t4.read('est_cpulist')).toBe('0-3');
    expect(t4.cpulist()).toBe('0-3');
    expect(t4.v.est_cpulist_count).toBe(4);
    expect(t4.read('sync_qlen_max')).toBe('12345');
    expect(new Tunables({cpuCount: 1}).read('est_cpulist')).toBe('0');
  });

  it('rejects impossible host options', () => {
    expect(() => new Tunables({cpuCount: 0})).toThrow(RangeError);
    expect(() => new Tunables({cpuCount: 1.5})).toThrow(RangeError);
    expect(() => new Tunables({syncQlenMaxDefault: -1})).toThrow(RangeError);
  });
});

describe('proc_dointvec parsing', () => {
  it('accepts surrounding whitespace and newlines', () => {
    const t = new Tunables();
    expect(t.write('amemthresh', '  2048 ')).toEqual({ok: true, changed: true});
    expect(t.write('amemthresh', '\t512\n')).toEqual({ok: true, changed: true});
    expect(t.read('amemthresh')).toBe('512');
  });

  it('garbage, empty input and whitespace-only input fail with EINVAL and keep the value', () => {
    for (const bad of ['abc', '', '   ', '\n', '1.5', '5x', '-', '--5', '- 5', '5\r', 'x5', '1e3', '0x', '0xg']) {
      const t = new Tunables();
      const r = t.write('am_droprate', bad);
      expectRejected(r, 'EINVAL');
      expect(t.read('am_droprate'), JSON.stringify(bad)).toBe('10');
    }
  });

  it("only '-' is a sign: '+5' is refused", () => {
    const t = new Tunables();
    expectRejected(t.write('am_droprate', '+5'), 'EINVAL');
    expect(t.write('am_droprate', '-5')).toEqual({ok: true, changed: true});
    expect(t.read('am_droprate')).toBe('-5');
  });

  it('the radix is auto-detected like strtoul(..., 0): 0x hex and leading-0 octal', () => {
    const t = new Tunables();
    expect(t.write('amemthresh', '0x10').ok).toBe(true);
    expect(t.read('amemthresh')).toBe('16');
    expect(t.write('amemthresh', '0X1f').ok).toBe(true);
    expect(t.read('amemthresh')).toBe('31');
    expect(t.write('amemthresh', '010').ok).toBe(true);
    expect(t.read('amemthresh')).toBe('8');
    expect(t.write('amemthresh', '-0x10').ok).toBe(true);
    expect(t.read('amemthresh')).toBe('-16');
    expectRejected(t.write('amemthresh', '08'), 'EINVAL'); // '8' is not an octal digit
    expect(t.read('amemthresh')).toBe('-16');
  });

  it('C int range: INT_MIN and INT_MAX accepted, one beyond either refused', () => {
    const t = new Tunables();
    expect(t.write('debug_level', '2147483647').ok).toBe(true);
    expect(t.read('debug_level')).toBe('2147483647');
    expect(t.write('debug_level', '-2147483648').ok).toBe(true);
    expect(t.read('debug_level')).toBe('-2147483648');
    expectRejected(t.write('debug_level', '2147483648'), 'EINVAL');
    expectRejected(t.write('debug_level', '-2147483649'), 'EINVAL');
    expectRejected(t.write('debug_level', '99999999999999999999'), 'EINVAL'); // above 2^64
    expect(t.read('debug_level')).toBe('-2147483648');
  });

  it('a number token of 21 characters is refused even when its value is small', () => {
    const t = new Tunables();
    expectRejected(t.write('am_droprate', '000000000000000000001'), 'EINVAL');
    expect(t.write('am_droprate', '00000000000000000001').ok).toBe(true); // 20 characters, octal 1
    expect(t.read('am_droprate')).toBe('1');
  });

  it('a scalar takes the first number and ignores what follows it', () => {
    const t = new Tunables();
    expect(t.write('am_droprate', '5 6')).toEqual({ok: true, changed: true});
    expect(t.read('am_droprate')).toBe('5');
    expect(t.write('am_droprate', '7\tgarbage')).toEqual({ok: true, changed: true});
    expect(t.read('am_droprate')).toBe('7');
  });

  it('only the first PAGE_SIZE-1 bytes are looked at', () => {
    const t = new Tunables();
    expectRejected(t.write('am_droprate', ' '.repeat(4095) + '5'), 'EINVAL');
    expect(t.write('am_droprate', ' '.repeat(4093) + '5').ok).toBe(true);
    expect(t.read('am_droprate')).toBe('5');
  });

  it('the error names the tunable, the value and the rule', () => {
    const t = new Tunables();
    const r = t.write('am_droprate', 'abc\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^am_droprate: invalid value 'abc': not an integer.* \(EINVAL\)$/);
  });

  it('backup_only=7 accepted (booleans take any int)', () => {
    const t = new Tunables();
    expect(t.write('backup_only', '7')).toEqual({ok: true, changed: true});
    expect(t.read('backup_only')).toBe('7');
    expect(t.v.backup_only).toBe(7);
    expect(t.write('backup_only', '-1').ok).toBe(true);
    expect(t.write('conn_reuse_mode', '1000').ok).toBe(true);
  });

  it('run_estimation takes any int', () => {
    const {t, calls} = recorder();
    expect(t.write('run_estimation', '0')).toEqual({ok: true, changed: true});
    expect(t.write('run_estimation', '-7')).toEqual({ok: true, changed: true});
    expect(t.write('run_estimation', '-7')).toEqual({ok: true, changed: false});
    expect(calls).toEqual(['run_estimation', 'run_estimation']);
  });
});

describe('proc_do_defense_mode (drop_entry, drop_packet, secure_tcp)', () => {
  it('writing drop_entry=7 fails with EINVAL and keeps 0', () => {
    const {t, calls} = recorder();
    const r = t.write('drop_entry', '7');
    expect(r).toEqual({ok: false, errno: 'EINVAL', error: "drop_entry: invalid value '7': must be 0..3 (EINVAL)"});
    expect(t.read('drop_entry')).toBe('0');
    expect(calls).toEqual([]);
  });

  it('values 4 and -1 are refused for every defense mode', () => {
    for (const n of ['drop_entry', 'drop_packet', 'secure_tcp']) {
      const t = new Tunables();
      expectRejected(t.write(n, '4'), 'EINVAL');
      expectRejected(t.write(n, '-1'), 'EINVAL');
      expect(t.read(n)).toBe('0');
    }
  });

  it('drop_entry: writing the current value is a no-op (no defense re-evaluation)', () => {
    const {t, calls} = recorder();
    expect(t.write('drop_entry', '0')).toEqual({ok: true, changed: false});
    expect(calls).toEqual([]);
    expect(t.write('drop_entry', '3')).toEqual({ok: true, changed: true});
    expect(t.write('drop_entry', '3')).toEqual({ok: true, changed: false});
    expect(calls).toEqual(['drop_entry']);
  });

  it('every valid different value triggers exactly one re-evaluation', () => {
    const {t, calls} = recorder();
    for (const [i, n] of ['drop_entry', 'drop_packet', 'secure_tcp'].entries()) {
      expect(t.write(n, String(i + 1))).toEqual({ok: true, changed: true});
    }
    expect(calls).toEqual(['drop_entry', 'drop_packet', 'secure_tcp']);
    expect(t.v.drop_entry).toBe(1);
    expect(t.v.drop_packet).toBe(2);
    expect(t.v.secure_tcp).toBe(3);
  });

  it('the defense tick flipping 1->2 via setInternal shows in read() and does not call onChange', () => {
    const {t, calls} = recorder();
    t.write('drop_packet', '1');
    calls.length = 0;
    t.setInternal('drop_packet', 2);
    expect(t.read('drop_packet')).toBe('2');
    expect(calls).toEqual([]);
    // the user writing the value the kernel put there is a no-op, writing 1 is a change
    expect(t.write('drop_packet', '2')).toEqual({ok: true, changed: false});
    expect(t.write('drop_packet', '1')).toEqual({ok: true, changed: true});
    expect(calls).toEqual(['drop_packet']);
  });

  it('the 0..3 check only runs on a different value: rewriting an out-of-range current value is accepted', () => {
    const {t, calls} = recorder();
    t.setInternal('drop_entry', 7); // unreachable through write(), but shows the handler's order
    expect(t.write('drop_entry', '7')).toEqual({ok: true, changed: false});
    expect(t.read('drop_entry')).toBe('7');
    expect(calls).toEqual([]);
  });

  it('an unparsable write keeps the value and does not re-evaluate', () => {
    const {t, calls} = recorder();
    t.write('secure_tcp', '3');
    calls.length = 0;
    expectRejected(t.write('secure_tcp', 'off'), 'EINVAL');
    expect(t.read('secure_tcp')).toBe('3');
    expect(calls).toEqual([]);
  });
});

describe('proc_dointvec_minmax', () => {
  it('sync_version=2 rejected, 0 accepted', () => {
    const t = new Tunables();
    const r = t.write('sync_version', '2');
    expectRejected(r, 'EINVAL');
    if (!r.ok) expect(r.error).toBe("sync_version: invalid value '2': must be 0..1 (EINVAL)");
    expect(t.read('sync_version')).toBe('1');
    expectRejected(t.write('sync_version', '-1'), 'EINVAL');
    expect(t.write('sync_version', '0')).toEqual({ok: true, changed: true});
    expect(t.read('sync_version')).toBe('0');
  });

  it('sync_retries accepts 0..3 and refuses 4', () => {
    const t = new Tunables();
    expect(t.write('sync_retries', '3')).toEqual({ok: true, changed: true});
    expectRejected(t.write('sync_retries', '4'), 'EINVAL');
    expect(t.read('sync_retries')).toBe('3');
  });
});

describe('proc_dointvec_jiffies', () => {
  it('lblc_expiration reads back seconds and is stored in milliseconds', () => {
    const t = new Tunables();
    expect(t.write('lblc_expiration', '3600')).toEqual({ok: true, changed: true});
    expect(t.read('lblc_expiration')).toBe('3600');
    expect(t.v.lblc_expiration).toBe(3_600_000);
  });

  it('jiffies value above INT_MAX/HZ rejected', () => {
    const t = new Tunables();
    expect(t.write('sync_refresh_period', '2147483').ok).toBe(true);
    expect(t.v.sync_refresh_period).toBe(2_147_483_000);
    const r = t.write('sync_refresh_period', '2147484');
    expectRejected(r, 'EINVAL');
    expect(t.read('sync_refresh_period')).toBe('2147483');
  });

  it('negative seconds pass (stored negative), but the INT_MAX/HZ bound applies to the magnitude', () => {
    const t = new Tunables();
    expect(t.write('lblcr_expiration', '-5').ok).toBe(true);
    expect(t.v.lblcr_expiration).toBe(-5000);
    expect(t.read('lblcr_expiration')).toBe('-5');
    expectRejected(t.write('lblcr_expiration', '-2147484'), 'EINVAL');
    expect(t.read('lblcr_expiration')).toBe('-5');
  });

  it('read-back divides by HZ truncating toward zero (kernel prints a lone minus as -0)', () => {
    const t = new Tunables();
    t.setInternal('sync_refresh_period', 1999);
    expect(t.read('sync_refresh_period')).toBe('1');
    t.setInternal('sync_refresh_period', -1999);
    expect(t.read('sync_refresh_period')).toBe('-1');
    t.setInternal('sync_refresh_period', -500);
    expect(t.read('sync_refresh_period')).toBe('-0');
  });
});

describe('proc_doulongvec_minmax (sync_qlen_max)', () => {
  it('accepts non-negative values up to 2^53-1', () => {
    const t = new Tunables();
    expect(t.write('sync_qlen_max', '0').ok).toBe(true);
    expect(t.write('sync_qlen_max', String(Number.MAX_SAFE_INTEGER)).ok).toBe(true);
    expect(t.read('sync_qlen_max')).toBe(String(Number.MAX_SAFE_INTEGER));
    expect(t.write('sync_qlen_max', '3000000000').ok).toBe(true); // beyond C int, fine for unsigned long
    expect(t.v.sync_qlen_max).toBe(3_000_000_000);
  });

  it('negative numbers (even -0) and garbage fail with EINVAL', () => {
    const t = new Tunables();
    for (const bad of ['-1', '-0', 'lots', '', '12k']) expectRejected(t.write('sync_qlen_max', bad), 'EINVAL');
    expect(t.read('sync_qlen_max')).toBe('4096');
  });

  it('values the engine cannot hold exactly (above 2^53-1) and above 2^64-1 are refused', () => {
    const t = new Tunables();
    expectRejected(t.write('sync_qlen_max', '9007199254740992'), 'EINVAL');
    expectRejected(t.write('sync_qlen_max', '18446744073709551616'), 'EINVAL');
    expect(t.read('sync_qlen_max')).toBe('4096');
  });
});

describe('proc_do_sync_threshold', () => {
  it("sync_threshold '50 50' is rejected, '3 0' accepted", () => {
    const {t, calls} = recorder();
    expectRejected(t.write('sync_threshold', '50 50'), 'EINVAL');
    expect(t.read('sync_threshold')).toBe('3\t50');
    expect(calls).toEqual([]);
    expect(t.write('sync_threshold', '3 0')).toEqual({ok: true, changed: true});
    expect(t.read('sync_threshold')).toBe('3\t0');
    expect([t.v.sync_threshold, t.v.sync_period]).toEqual([3, 0]);
    expect(calls).toEqual(['sync_threshold']);
  });

  it('threshold above the period, or a negative number, leaves both unchanged', () => {
    const t = new Tunables();
    for (const bad of ['60 50', '-1 50', '3 -1', '10 5']) {
      expectRejected(t.write('sync_threshold', bad), 'EINVAL');
      expect(t.read('sync_threshold'), bad).toBe('3\t50');
    }
  });

  it('period 0 allows any non-negative threshold', () => {
    const t = new Tunables();
    expect(t.write('sync_threshold', '1000 0').ok).toBe(true);
    expect(t.read('sync_threshold')).toBe('1000\t0');
  });

  it('sync_threshold single number keeps the period', () => {
    const t = new Tunables();
    expect(t.write('sync_threshold', '10')).toEqual({ok: true, changed: true});
    expect(t.read('sync_threshold')).toBe('10\t50');
    // and the pair is validated: 50 is not below the kept period 50
    expectRejected(t.write('sync_threshold', '50'), 'EINVAL');
    expect(t.read('sync_threshold')).toBe('10\t50');
    t.write('sync_threshold', '3 0');
    expect(t.write('sync_threshold', '77').ok).toBe(true);
    expect(t.read('sync_threshold')).toBe('77\t0');
  });

  it('numbers beyond the pair are ignored', () => {
    const t = new Tunables();
    expect(t.write('sync_threshold', '4 40 9999').ok).toBe(true);
    expect(t.read('sync_threshold')).toBe('4\t40');
  });

  it('a parse error after the first number still applies that number, as the kernel does', () => {
    const {t, calls} = recorder();
    const r = t.write('sync_threshold', '5 abc');
    expectRejected(r, 'EINVAL');
    expect(t.read('sync_threshold')).toBe('5\t50');
    expect(calls).toEqual(['sync_threshold']);
    // a broken first number changes nothing
    expectRejected(t.write('sync_threshold', 'abc 7'), 'EINVAL');
    expect(t.read('sync_threshold')).toBe('5\t50');
  });
});

describe('proc_do_sync_ports', () => {
  it('sync_ports=3 rejected (not a power of two)', () => {
    const t = new Tunables();
    const r = t.write('sync_ports', '3');
    expectRejected(r, 'EINVAL');
    if (!r.ok) expect(r.error).toBe("sync_ports: invalid value '3': must be a power of two >= 1 (EINVAL)");
    expect(t.read('sync_ports')).toBe('1');
  });

  it('0 and negative powers are refused, 4 and 64 accepted, 128 accepted (clamped only at start)', () => {
    const t = new Tunables();
    expectRejected(t.write('sync_ports', '0'), 'EINVAL');
    expectRejected(t.write('sync_ports', '-2'), 'EINVAL');
    expect(t.write('sync_ports', '4')).toEqual({ok: true, changed: true});
    expect(t.write('sync_ports', '128')).toEqual({ok: true, changed: true});
    expect(t.read('sync_ports')).toBe('128');
  });

  it('the check runs only when the value changes', () => {
    const {t, calls} = recorder();
    expect(t.write('sync_ports', '1')).toEqual({ok: true, changed: false});
    t.setInternal('sync_ports', 3);
    expect(t.write('sync_ports', '3')).toEqual({ok: true, changed: false});
    expect(calls).toEqual([]);
  });
});

describe('ipvs_proc_est_nice', () => {
  it('est_nice=20 rejected', () => {
    const t = new Tunables();
    expectRejected(t.write('est_nice', '20'), 'EINVAL');
    expectRejected(t.write('est_nice', '-21'), 'EINVAL');
    expect(t.read('est_nice')).toBe('0');
  });

  it('the bounds -20 and 19 are accepted; an unchanged value reports no change', () => {
    const {t, calls} = recorder();
    expect(t.write('est_nice', '-20')).toEqual({ok: true, changed: true});
    expect(t.write('est_nice', '19')).toEqual({ok: true, changed: true});
    expect(t.write('est_nice', '19')).toEqual({ok: true, changed: false});
    expect(calls).toEqual(['est_nice', 'est_nice']);
  });
});

describe('ipvs_proc_est_cpulist', () => {
  it('parses ranges and lists and reads back in the collapsed %*pbl form', () => {
    const t = new Tunables({cpuCount: 16});
    const cases: Array<[string, string, number]> = [
      ['0-3,8', '0-3,8', 5],
      ['0,2,3', '0,2-3', 3],
      ['3,2,1,0', '0-3', 4],
      ['1,1,0-1', '0-1', 2],
      ['5', '5', 1],
      [' 1 3\t', '1,3', 2],
      ['all', '0-15', 16],
      ['ALL', '0-15', 16],
      ['N', '15', 1],
      ['0-N', '0-15', 16],
      ['0-7:2/4', '0-1,4-5', 4],
      ['all:1/8', '0,8', 2],
      [',,2,,', '2', 1],
    ];
    for (const [input, shown, count] of cases) {
      expect(t.write('est_cpulist', input).ok, input).toBe(true);
      expect(t.read('est_cpulist'), input).toBe(shown);
      expect(t.cpulist()).toBe(shown);
      expect(t.v.est_cpulist_count, input).toBe(count);
    }
  });

  it("an empty list stops estimation and reads back as ''", () => {
    for (const empty of ['', ' ', '\n', ' , ']) {
      const {t, calls} = recorder();
      expect(t.write('est_cpulist', empty)).toEqual({ok: true, changed: true});
      expect(t.read('est_cpulist')).toBe('');
      expect(t.v.est_cpulist_count).toBe(0);
      expect(calls).toEqual(['est_cpulist']);
    }
  });

  it('a CPU beyond the host is ERANGE; malformed lists are EINVAL; the list is kept', () => {
    const t = new Tunables({cpuCount: 4});
    t.write('est_cpulist', '1-2');
    expectRejected(t.write('est_cpulist', '4'), 'ERANGE');
    expectRejected(t.write('est_cpulist', '0-9'), 'ERANGE');
    for (const bad of ['3-1', 'x', '0-', '-1', '1-2-3', '0;1', 'allx', '0-3:3/0', '0-3:3/2', '1:1/2x', '0 - 3']) {
      expectRejected(t.write('est_cpulist', bad), 'EINVAL');
    }
    expectRejected(t.write('est_cpulist', '99999999999'), 'ERANGE'); // EOVERFLOW in the kernel
    expect(t.read('est_cpulist')).toBe('1-2');
    expect(t.v.est_cpulist_count).toBe(2);
  });

  it('writing the list it already has is not a change', () => {
    const {t, calls} = recorder();
    expect(t.write('est_cpulist', '0-1')).toEqual({ok: true, changed: false});
    expect(t.write('est_cpulist', '1,0')).toEqual({ok: true, changed: false});
    expect(t.write('est_cpulist', '1')).toEqual({ok: true, changed: true});
    expect(calls).toEqual(['est_cpulist']);
  });
});

describe('onChange', () => {
  it('is called exactly when the kernel would store a new value', () => {
    const {t, calls} = recorder();
    t.write('amemthresh', '1024'); // same
    t.write('amemthresh', '2000'); // change
    t.write('amemthresh', 'bad'); // error
    t.write('sync_version', '5'); // error
    t.write('sync_version', '0'); // change
    t.write('lblc_expiration', '86400'); // same
    t.write('lblc_expiration', '60'); // change
    t.write('sync_qlen_max', '4096'); // same
    t.write('sync_qlen_max', '100'); // change
    t.write('secure_tcp', '9'); // error
    t.setInternal('amemthresh', 5); // internal: silent
    expect(calls).toEqual(['amemthresh', 'sync_version', 'lblc_expiration', 'sync_qlen_max']);
  });

  it('uses the canonical name when written through the sysctl path', () => {
    const {t, calls} = recorder();
    t.write('net.ipv4.vs.drop_packet', '3');
    expect(calls).toEqual(['drop_packet']);
  });
});

describe('setInternal', () => {
  it('bypasses validation and writes the numeric view', () => {
    const t = new Tunables();
    t.setInternal('drop_entry', 2);
    t.setInternal('sync_period', 0);
    t.setInternal('sync_threshold', 7);
    expect(t.v.drop_entry).toBe(2);
    expect(t.read('sync_threshold')).toBe('7\t0');
  });

  it('refuses unknown keys, est_cpulist and non-integers', () => {
    const t = new Tunables();
    expect(() => t.setInternal('nope', 1)).toThrow();
    expect(() => t.setInternal('est_cpulist', 1)).toThrow();
    expect(() => t.setInternal('est_cpulist_count', 1)).toThrow();
    expect(() => t.setInternal('drop_entry', 1.5)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const NAMES = TUNABLES.map((d) => d.name);
const FRAGMENTS = ['0', '1', '2', '3', '7', '50', '-', '-1', '0x1f', '010', ' ', '\t', '\n', ',', '-', 'all', 'N', ':', '/', 'x', '.', '+', '2147483648', '99999999999'];
/** Random text biased toward what parsers care about, plus arbitrary unicode. */
const anyText = fc.oneof(
  fc.string(),
  fc.string({unit: 'grapheme'}),
  fc.array(fc.constantFrom(...FRAGMENTS), {maxLength: 6}).map((a) => a.join('')),
  fc.integer({min: -3_000_000_000, max: 3_000_000_000}).map(String),
);

function snapshot(t: Tunables): Record<string, string> {
  return Object.fromEntries(NAMES.map((n) => [n, t.read(n)]));
}

describe('properties', () => {
  it('for any tunable and any text: the write succeeds, or nothing is changed (sync_threshold: only a leading number can stick)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...NAMES), anyText, (name, text) => {
        const calls: string[] = [];
        const t = new Tunables({onChange: (n) => calls.push(n)});
        const before = snapshot(t);
        const r = t.write(name, text);
        const after = snapshot(t);
        // other tunables never move
        for (const n of NAMES) if (n !== name) expect(after[n]).toBe(before[n]);
        if (r.ok) {
          expect(calls).toEqual(r.changed ? [name] : []);
          expect(r.changed).toBe(after[name] !== before[name]);
          return;
        }
        expect(r.error.startsWith(`${name}: invalid value '`)).toBe(true);
        expect(r.error.endsWith(`(${r.errno})`)).toBe(true);
        if (name !== 'sync_threshold' || after[name] === before[name]) {
          expect(after[name]).toBe(before[name]);
          expect(calls).toEqual([]);
          return;
        }
        // proc_do_sync_threshold quirk: the period never moves on a failed write, and the new
        // threshold is what writing the first token alone would have stored.
        expect(t.v.sync_period).toBe(50);
        const first = text.trim().split(/\s+/)[0] ?? '';
        const ref = new Tunables();
        expect(ref.write('sync_threshold', first).ok).toBe(true);
        expect(after[name]).toBe(ref.read('sync_threshold'));
        expect(calls).toEqual(['sync_threshold']);
      }),
      {numRuns: 3000},
    );
  });

  it('writing back what read() shows is accepted and changes nothing, after any sequence of writes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...NAMES), anyText), {maxLength: 12}), (writes) => {
        const t = new Tunables({cpuCount: 8});
        for (const [n, s] of writes) t.write(n, s);
        for (const n of NAMES) {
          const shown = t.read(n);
          expect(t.write(n, shown), `${n} <- ${JSON.stringify(shown)}`).toEqual({ok: true, changed: false});
          expect(t.read(n)).toBe(shown);
        }
      }),
      {numRuns: 300},
    );
  });

  it('int tunables store any C int written in decimal or hex and refuse anything beyond', () => {
    const ints = TUNABLES.filter((d) => d.kind === 'int' || d.kind === 'bool').map((d) => d.name);
    fc.assert(
      fc.property(fc.constantFrom(...ints), fc.integer({min: -(2 ** 31), max: 2 ** 31 - 1}), (name, n) => {
        const t = new Tunables();
        expect(t.write(name, String(n)).ok).toBe(true);
        expect(t.read(name)).toBe(String(n));
        expect(t.v[name]).toBe(n);
        const hex = (n < 0 ? '-0x' : '0x') + Math.abs(n).toString(16);
        expect(t.write(name, hex)).toEqual({ok: true, changed: false});
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...ints), fc.bigInt({min: 2n ** 31n, max: 2n ** 70n}), fc.boolean(), (name, big, neg) => {
        if (neg && big === 2n ** 31n) return; // INT_MIN itself is valid
        const t = new Tunables();
        const before = t.read(name);
        expectRejected(t.write(name, (neg ? '-' : '') + big.toString()), 'EINVAL');
        expect(t.read(name)).toBe(before);
      }),
    );
  });

  it('defense modes: a write succeeds iff it parses and is 0..3 or equal to the current value', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('drop_entry', 'drop_packet', 'secure_tcp'),
        fc.integer({min: 0, max: 3}),
        fc.integer({min: -10, max: 10}),
        (name, start, n) => {
          const calls: string[] = [];
          const t = new Tunables({onChange: (x) => calls.push(x)});
          t.setInternal(name, start);
          const r = t.write(name, String(n));
          expect(r.ok).toBe(n === start || (n >= 0 && n <= 3));
          expect(calls).toEqual(r.ok && n !== start ? [name] : []);
          expect(t.v[name]).toBe(r.ok ? n : start);
        },
      ),
    );
  });

  it('sync_threshold accepts exactly the pairs with 0 <= t < p or p == 0', () => {
    fc.assert(
      fc.property(fc.integer({min: -5, max: 120}), fc.integer({min: -5, max: 120}), (th, p) => {
        const t = new Tunables();
        const r = t.write('sync_threshold', `${th} ${p}`);
        const valid = th >= 0 && p >= 0 && (th < p || p === 0);
        expect(r.ok).toBe(valid);
        expect(t.read('sync_threshold')).toBe(valid ? `${th}\t${p}` : '3\t50');
      }),
    );
  });

  it('cpulist: any set of CPUs written in any order reads back as sorted collapsed ranges', () => {
    fc.assert(
      fc.property(fc.integer({min: 1, max: 40}).chain((n) => fc.tuple(fc.constant(n), fc.uniqueArray(fc.nat({max: n - 1}), {maxLength: n}))), ([n, cpus]) => {
        const t = new Tunables({cpuCount: n});
        expect(t.write('est_cpulist', cpus.join(',')).ok).toBe(true);
        const sorted = [...cpus].sort((a, b) => a - b);
        // expected text computed independently: walk the sorted list and cut at gaps
        const runs: number[][] = [];
        for (const c of sorted) {
          const last = runs[runs.length - 1];
          if (last && last[last.length - 1] === c - 1) last.push(c);
          else runs.push([c]);
        }
        const expected = runs.map((r) => (r.length === 1 ? `${r[0]}` : `${r[0]}-${r[r.length - 1]}`)).join(',');
        expect(t.read('est_cpulist')).toBe(expected);
        expect(t.v.est_cpulist_count).toBe(cpus.length);
        // the printed form parses back to the same set
        expect(t.write('est_cpulist', expected)).toEqual({ok: true, changed: false});
      }),
    );
  });
});

describe('instance defaults derived from the host', () => {
  it('sync_qlen_max and est_cpulist default to what this host gives them', () => {
    const t = new Tunables({cpuCount: 4, syncQlenMaxDefault: 1234});
    expect(t.defaultText('sync_qlen_max')).toBe('1234');
    expect(t.read('sync_qlen_max')).toBe('1234');
    expect(t.defaultText('est_cpulist')).toBe('0-3');
    expect(t.defaultText('net.ipv4.vs.sync_threshold')).toBe('3\t50');
  });
});
