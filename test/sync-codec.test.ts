// Byte vectors worked out by hand from the ip_vs_sync.c struct layouts (not produced by our encoder), in both
// directions, and the receive checks of §5.6 one by one.
import {describe, expect, it} from 'vitest';
import {parseAddr} from '../src/engine/addr.js';
import type {SyncConn} from '../src/engine/sync-conn.js';
import {
  decodeMessage, encodeV0Message, encodeV1Message, SyncEncodeError, v1EntryLength,
} from '../src/sync/codec.js';

/** "00 06 9C 40" -> bytes (whitespace and newlines ignored). */
function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  if (clean.length % 2) throw new Error('odd hex');
  return Uint8Array.from(clean.match(/../g)!.map((b) => parseInt(b, 16)));
}
function toHex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ');
}
const ip = (t: string) => parseAddr(t)!.addr;

const CLIENT = ip('192.0.2.10'), VIP = ip('198.51.100.1'), RS = ip('10.1.0.2');

function conn(c: Partial<SyncConn>): SyncConn {
  return {af: 4, proto: 6, flags: 0, state: 0, cport: 0, vport: 0, dport: 0, fwmark: 0, timeout: 0,
    caddr: CLIENT, vaddr: VIP, daddr: RS, ...c};
}

// §5.4 worked example: NAT connection in TIME_WAIT, syncid 5, flags INACTIVE.
const V0_EXAMPLE = hex(`01 05 00 1C
  00 06 9C 40 01 BB 01 BB C0 00 02 0A C6 33 64 01 0A 01 00 02 01 00 00 05`);
const V0_CONN = conn({proto: 6, cport: 40000, vport: 443, dport: 443, flags: 0x0100, state: 5});

// §5.5 worked example: persistence template, syncid 5, TEMPLATE|INACTIVE|MASQ, ASSURED, timeout 300.
const V1_TEMPLATE = hex(`00 05 00 2C 01 01 00 00
  00 06 00 24 00 00 11 00 00 01 00 00 01 BB 01 BB 00 00 00 00 00 00 01 2C C0 00 02 0A C6 33 64 01
  0A 01 00 02`);
const V1_TEMPLATE_CONN = conn({proto: 6, flags: 0x1100, state: 1, cport: 0, vport: 443, dport: 443, timeout: 300});

// §5.5 first example filled in: TCP ESTABLISHED DR connection, syncid 5, flags DROUTE|NOOUTPUT
// (0x83), cport 40000, vport/dport 80, no mark, timeout 900.
const V1_DR = hex(`00 05 00 2C 01 01 00 00
  00 06 00 24 00 00 00 83 00 01 9C 40 00 50 00 50 00 00 00 00 00 00 03 84
  C0 00 02 0A C6 33 64 01 0A 01 00 02`);
const V1_DR_CONN = conn({flags: 0x83, state: 1, cport: 40000, vport: 80, dport: 80, timeout: 900});

// §5.5 padding example: a SIP template (UDP 5060) with PE data "abcdef" and PE name "sip"
// (length 36 + 8 + 5 = 49 = 0x31) at offset 8, ending at 57; 3 zero bytes; a plain UDP entry at
// 60 (INACTIVE, state 0, timeout 300, cport 5060); message size 8 + 49 + 3 + 36 = 96 = 0x60.
const V1_PADDED = hex(`00 07 00 60 02 01 00 00
  00 11 00 31 00 00 11 00 00 00 00 00 13 C4 13 C4 00 00 00 00 00 00 01 2C
  C0 00 02 0A C6 33 64 01 0A 01 00 02
  02 06 61 62 63 64 65 66 03 03 73 69 70
  00 00 00
  00 11 00 24 00 00 01 00 00 00 13 C4 13 C4 13 C4 00 00 00 00 00 00 01 2C
  C0 00 02 0A C6 33 64 01 0A 01 00 02`);
const V1_PADDED_CONNS = [
  conn({proto: 17, flags: 0x1100, state: 0, cport: 0, vport: 5060, dport: 5060, timeout: 300,
    peData: new TextEncoder().encode('abcdef'), peName: 'sip'}),
  conn({proto: 17, flags: 0x0100, state: 0, cport: 5060, vport: 5060, dport: 5060, timeout: 300}),
];

// IPv6 UDP entry, syncid 5: client [2001:db8::10]:40000, virtual [2001:db8::1]:443,
// real server [2001:db8:1::2]:443, INACTIVE, state 0, timeout 300. Size 8 + 72 = 80 = 0x50.
const V1_IPV6 = hex(`00 05 00 50 01 01 00 00
  01 11 00 48 00 00 01 00 00 00 9C 40 01 BB 01 BB 00 00 00 00 00 00 01 2C
  20 01 0D B8 00 00 00 00 00 00 00 00 00 00 00 10
  20 01 0D B8 00 00 00 00 00 00 00 00 00 00 00 01
  20 01 0D B8 00 01 00 00 00 00 00 00 00 00 00 02`);
const V1_IPV6_CONN: SyncConn = {af: 6, proto: 17, flags: 0x100, state: 0, cport: 40000, vport: 443, dport: 443,
  fwmark: 0, timeout: 300, caddr: '2001:db8::10', vaddr: '2001:db8::1', daddr: '2001:db8:1::2'};

// IPv6 fwmark template (mark 7): protocol 0, vport/dport 0, the mark in the first word of vaddr,
// fwmark 7, TEMPLATE|INACTIVE|DROUTE|NOOUTPUT = 0x1183, ASSURED, timeout 360.
const V1_IPV6_FWM = hex(`00 00 00 50 01 01 00 00
  01 00 00 48 00 00 11 83 00 01 00 00 00 00 00 00 00 00 00 07 00 00 01 68
  20 01 0D B8 00 00 00 00 00 00 00 00 00 00 00 10
  00 00 00 07 00 00 00 00 00 00 00 00 00 00 00 00
  20 01 0D B8 00 01 00 00 00 00 00 00 00 00 00 02`);
const V1_IPV6_FWM_CONN: SyncConn = {af: 6, proto: 0, flags: 0x1183, state: 1, cport: 0, vport: 0, dport: 0,
  fwmark: 7, timeout: 360, caddr: '2001:db8::10', vaddr: 7, daddr: '2001:db8:1::2'};

// Sequence options. in_seq {0x11223344, 0x10, 0x8}, out_seq {0xAABBCCDD, 0x20, 0x18}; flags
// IN_SEQ|OUT_SEQ (0x0600) on an ESTABLISHED NAT connection, cport 40000, vport/dport 21, timeout 900.
// v1: option type 1, length 24 (0x18), six big-endian words; entry length 36 + 26 = 62 = 0x3E.
const SEQ = {inSeq: {initSeq: 0x11223344, delta: 0x10, previousDelta: 0x8},
  outSeq: {initSeq: 0xaabbccdd, delta: 0x20, previousDelta: 0x18}};
const SEQ_CONN = conn({flags: 0x0600, state: 1, cport: 40000, vport: 21, dport: 21, timeout: 900, ...SEQ});
const V1_SEQ = hex(`00 05 00 46 01 01 00 00
  00 06 00 3E 00 00 06 00 00 01 9C 40 00 15 00 15 00 00 00 00 00 00 03 84
  C0 00 02 0A C6 33 64 01 0A 01 00 02
  01 18 11 22 33 44 00 00 00 10 00 00 00 08 AA BB CC DD 00 00 00 20 00 00 00 18`);
// v0: 48-byte entry, the six words in host order (little-endian); size 4 + 48 = 52 = 0x34.
const V0_SEQ = hex(`01 05 00 34
  00 06 9C 40 00 15 00 15 C0 00 02 0A C6 33 64 01 0A 01 00 02 06 00 00 01
  44 33 22 11 10 00 00 00 08 00 00 00 DD CC BB AA 20 00 00 00 18 00 00 00`);

// v0 fwmark template (mark 7): protocol 0, ports 0, vaddr 00 00 00 07, TEMPLATE|INACTIVE|DROUTE|NOOUTPUT.
const V0_FWM = hex(`01 00 00 1C
  00 00 00 00 00 00 00 00 C0 00 02 0A 00 00 00 07 0A 01 00 02 11 83 00 01`);
const V0_FWM_CONN = conn({proto: 0, vaddr: 7, flags: 0x1183, state: 1});

describe('version 0 layout (struct ip_vs_sync_conn_v0)', () => {
  it('encodes the worked example byte for byte', () => {
    expect(toHex(encodeV0Message(5, [V0_CONN]))).toBe(toHex(V0_EXAMPLE));
  });

  it('decodes the worked example: header fields, entry fields, SYNC added, timeout and fwmark 0', () => {
    const m = decodeMessage(V0_EXAMPLE);
    expect(m).toMatchObject({ok: true, version: 0, syncId: 5, size: 28, nrConns: 1});
    expect(m.entries).toHaveLength(1);
    expect(m.entries[0]).toMatchObject({status: 'ok', offset: 4, length: 24, flags: 0x0120});
    expect(m.entries[0]!.conn).toEqual(V0_CONN);
  });

  it('sequence data follows in host order (little-endian) and makes a 48-byte entry', () => {
    expect(toHex(encodeV0Message(5, [SEQ_CONN]))).toBe(toHex(V0_SEQ));
    const m = decodeMessage(V0_SEQ);
    expect(m.entries[0]).toMatchObject({length: 48, flags: 0x0620});
    expect(m.entries[0]!.conn).toEqual({...SEQ_CONN, timeout: 0});
  });

  it('a fwmark template carries protocol 0 and the mark in vaddr', () => {
    expect(toHex(encodeV0Message(0, [V0_FWM_CONN]))).toBe(toHex(V0_FWM));
    const e = decodeMessage(V0_FWM).entries[0]!;
    expect(e.conn).toEqual(V0_FWM_CONN);
    expect(e.status).toBe('ok'); // templates skip the protocol check
  });

  it('only the low 16 bits of flags go out; the receiver adds SYNC, clears HASHED, keeps the rest', () => {
    const m = encodeV0Message(0, [conn({flags: 0x12345, state: 1})]);
    expect(toHex(m.subarray(24, 26))).toBe('23 45');
    const all = decodeMessage(hex(`01 00 00 1C 00 06 00 01 00 02 00 03 C0 00 02 0A C6 33 64 01 0A 01 00 02 F9 FF 00 01`));
    // 0xF9FF: no SEQ bits; | SYNC (0x20), & ~HASHED (0x40): no BACKUP_MASK filtering in v0
    expect(all.entries[0]!.flags).toBe(0xf9bf);
  });

  it('refuses IPv6 entries', () => {
    expect(() => encodeV0Message(0, [V1_IPV6_CONN])).toThrow(SyncEncodeError);
  });
});

describe('version 1 layout (struct ip_vs_sync_v4 / ip_vs_sync_v6)', () => {
  it('encodes the template example byte for byte', () => {
    expect(toHex(encodeV1Message(5, [V1_TEMPLATE_CONN]))).toBe(toHex(V1_TEMPLATE));
  });

  it('decodes the template example: header, entry, flags masked with BACKUP_MASK | SYNC', () => {
    const m = decodeMessage(V1_TEMPLATE);
    expect(m).toMatchObject({ok: true, version: 1, syncId: 5, size: 44, nrConns: 1});
    expect(m.entries[0]).toMatchObject({status: 'ok', offset: 8, length: 36, flags: 0x1120});
    expect(m.entries[0]!.conn).toEqual(V1_TEMPLATE_CONN);
  });

  it('encodes and decodes the DR ESTABLISHED example', () => {
    expect(toHex(encodeV1Message(5, [V1_DR_CONN]))).toBe(toHex(V1_DR));
    expect(decodeMessage(V1_DR).entries[0]!.conn).toEqual(V1_DR_CONN);
  });

  it('pads with zero bytes before an unaligned entry; the padding counts in the size only', () => {
    expect(v1EntryLength(V1_PADDED_CONNS[0]!)).toBe(49);
    expect(toHex(encodeV1Message(7, V1_PADDED_CONNS))).toBe(toHex(V1_PADDED));
    const m = decodeMessage(V1_PADDED);
    expect(m).toMatchObject({ok: true, size: 96, nrConns: 2});
    expect(m.entries.map((e) => [e.offset, e.length, e.status])).toEqual([[8, 49, 'ok'], [60, 36, 'ok']]);
    expect(m.entries[0]!.conn).toEqual(V1_PADDED_CONNS[0]);
    expect(m.entries[1]!.conn).toEqual(V1_PADDED_CONNS[1]);
  });

  it('IPv6 entries: type 1, 72-byte fixed part, 16-byte addresses', () => {
    expect(toHex(encodeV1Message(5, [V1_IPV6_CONN]))).toBe(toHex(V1_IPV6));
    const e = decodeMessage(V1_IPV6).entries[0]!;
    expect(e).toMatchObject({status: 'ok', length: 72});
    expect(e.conn).toEqual(V1_IPV6_CONN);
  });

  it('an IPv6 fwmark template carries the mark in the first word of vaddr', () => {
    expect(toHex(encodeV1Message(0, [V1_IPV6_FWM_CONN]))).toBe(toHex(V1_IPV6_FWM));
    const e = decodeMessage(V1_IPV6_FWM).entries[0]!;
    expect(e.conn.vaddr).toBe('0:7::'); // the raw field; the backup takes its first word as the mark
    expect(e.conn.fwmark).toBe(7);
  });

  it('sequence data is option 1 with six big-endian words', () => {
    expect(toHex(encodeV1Message(5, [SEQ_CONN]))).toBe(toHex(V1_SEQ));
    const e = decodeMessage(V1_SEQ).entries[0]!;
    expect(e.conn.inSeq).toEqual(SEQ.inSeq);
    expect(e.conn.outSeq).toEqual(SEQ.outSeq);
    expect(e.flags).toBe(0x0620);
  });

  it('the 32-bit flags are masked with 0x1F87 and get SYNC', () => {
    const m = hex(`00 00 00 2C 01 01 00 00
      00 06 00 24 FF FF FF FF 00 01 00 01 00 02 00 03 00 00 00 00 00 00 00 01 C0 00 02 0A C6 33 64 01 0A 01 00 02`);
    const e = decodeMessage(m).entries[0]!;
    expect(e.conn.flags).toBe(0xffffffff);
    // TEMPLATE is inside the mask, so this is a template: any state accepted
    expect(e.flags).toBe(0x1fa7);
  });

  it('nr_conns is one byte: a count below the entries present leaves the rest unread', () => {
    const two = encodeV1Message(1, [V1_DR_CONN, V1_DR_CONN]);
    two[4] = 1;
    const m = decodeMessage(two);
    expect(m.entries).toHaveLength(1);
    expect(m.stop).toBeUndefined();
  });
});

describe('receive checks (ip_vs_process_message)', () => {
  it('whole datagram: shorter than 4 bytes, size field not the length, syncid filter', () => {
    expect(decodeMessage(hex('00 05 00'))).toMatchObject({ok: false, reject: 'too-short'});
    const longer = new Uint8Array(V1_DR.length + 1);
    longer.set(V1_DR);
    expect(decodeMessage(longer)).toMatchObject({ok: false, reject: 'size-mismatch', size: 44});
    expect(decodeMessage(V1_DR.subarray(0, 40))).toMatchObject({ok: false, reject: 'size-mismatch'});
    expect(decodeMessage(V1_DR, {syncId: 6})).toMatchObject({ok: false, reject: 'syncid', syncId: 5});
    expect(decodeMessage(V1_DR, {syncId: 5}).ok).toBe(true);
    expect(decodeMessage(V1_DR, {syncId: 0}).ok).toBe(true); // 0 accepts every syncid
  });

  it('version detection: v1 only with byte5 = 1, byte0 = 0 and spare = 0', () => {
    for (const [off, val] of [[0, 1], [5, 2], [6, 1], [7, 1]] as const) {
      const m = V1_DR.slice();
      m[off] = val;
      expect(decodeMessage(m).version).toBe(0);
    }
    expect(decodeMessage(hex('00 05 00 04')).version).toBe(0); // 4 bytes: nothing to apply either way
  });

  it('a v1 message read as v0 by an old receiver has nr_conns 0', () => {
    expect(V1_DR[0]).toBe(0);
  });

  function v1With(entryHex: string, more = ''): Uint8Array {
    const body = hex(entryHex + more);
    const m = new Uint8Array(8 + body.length);
    m.set(hex('00 00 00 00 02 01 00 00'));
    m.set(body, 8);
    new DataView(m.buffer).setUint16(2, m.length);
    return m;
  }
  const PLAIN = '00 06 00 24 00 00 00 00 00 01 9C 40 00 50 00 50 00 00 00 00 00 00 03 84 C0 00 02 0A C6 33 64 01 0A 01 00 02';
  const withOpts = (len: number, opts: string) =>
    `00 06 ${len.toString(16).padStart(4, '0')} 00 00 00 00 00 01 9C 40 00 50 00 50 00 00 00 00 00 00 03 84 C0 00 02 0A C6 33 64 01 0A 01 00 02 ${opts}`;
  const pad = (n: number) => ' 00'.repeat((4 - (n % 4)) % 4);

  it('v1 stop conditions drop the entry and the rest of the datagram', () => {
    const cases: [string, string][] = [
      ['10 06 00 24' + PLAIN.slice(11), 'v1-bad-type'], // type 0x10: neither 0 nor IPv6
      ['00 06 10 24' + PLAIN.slice(11), 'v1-entry-version'], // version nibble 1
      ['00 06 00 20' + PLAIN.slice(11), 'v1-entry-too-short'], // 32 < 36
      ['01 06 00 24' + PLAIN.slice(11), 'v1-entry-too-short'], // IPv6 type with 36 bytes
      [withOpts(37, '01'), 'v1-option-truncated'],
      [withOpts(38, '09 00'), 'v1-option-length'], // zero length
      [withOpts(40, '09 08 00 00'), 'v1-option-length'], // past the entry
      [withOpts(42, '01 04 00 00 00 00'), 'v1-seq-option'], // not 24 bytes
      [withOpts(88, '01 18' + ' 00'.repeat(24) + ' 41 18' + ' 00'.repeat(24)), 'v1-seq-option'], // twice (0x41 = seq + PARAM)
      [withOpts(44, '02 02 61 62 02 02 61 62'), 'v1-pe-data-option'], // twice
      [withOpts(55, '03 11' + ' 61'.repeat(17)), 'v1-pe-name-option'], // 17 > 16
    ];
    for (const [entry, reason] of cases) {
      const len = parseInt(entry.replace(/\s+/g, '').slice(4, 8), 16) & 0xfff;
      const m = v1With(entry + pad(len), PLAIN);
      const d = decodeMessage(m);
      expect(d.ok, reason).toBe(true);
      expect(d.stop, reason).toEqual({index: 0, offset: 8, reason});
      expect(d.entries, reason).toHaveLength(0);
    }
    // entry length beyond the datagram, and fewer than 36 bytes left
    const m = v1With(PLAIN);
    m[4] = 2;
    expect(decodeMessage(m).stop).toEqual({index: 1, offset: 44, reason: 'v1-too-small'});
    const big = v1With('00 06 00 64' + PLAIN.slice(11));
    expect(decodeMessage(big).stop?.reason).toBe('v1-exceeds-message');
  });

  it('v1 skip conditions drop only that entry', () => {
    const cases: [string, string][] = [
      [withOpts(40, '09 02 00 00'), 'unknown-mandatory-option'],
      [withOpts(40, '80 02 00 00'), 'unknown-mandatory-option'], // 0x80: no PARAM bit
      // an unknown mandatory option ends the option walk: the bad seq option after it is not seen
      [withOpts(44, '09 02 00 00 01 02 00 00'), 'unknown-mandatory-option'],
      ['00 32 00 24' + PLAIN.slice(11), 'unsupported-protocol'], // ESP (50)
      ['00 11 00 24 00 00 00 00 00 01' + PLAIN.slice(29), 'invalid-state'], // UDP state 1
      ['00 06 00 24 00 00 00 00 00 0B' + PLAIN.slice(29), 'invalid-state'], // TCP state 11
      [withOpts(42, '02 04 61 62 63 64'), 'pe-without-name'],
      [withOpts(47, '02 04 61 62 63 64 03 03 66 6F 6F'), 'unknown-pe'],
    ];
    for (const [entry, reason] of cases) {
      const len = parseInt(entry.replace(/\s+/g, '').slice(4, 8), 16) & 0xfff;
      const m = v1With(entry + pad(len), PLAIN);
      const d = decodeMessage(m);
      expect(d.stop, reason).toBeUndefined();
      expect(d.entries.map((e) => e.status), reason).toEqual(['skip', 'ok']);
      expect(d.entries[0]!.reason, reason).toBe(reason);
    }
  });

  it('accepted: optional unknown options, a PE name with a NUL, odd template states', () => {
    const opt = decodeMessage(v1With(withOpts(40, '49 02 00 00')));
    expect(opt.entries[0]).toMatchObject({status: 'ok', ignoredOptions: [0x49]});
    const nul = decodeMessage(v1With(withOpts(48, '02 02 61 62 03 06 73 69 70 00 78 79')));
    expect(nul.entries[0]).toMatchObject({status: 'ok'});
    expect(nul.entries[0]!.conn.peName).toBe('sip');
    const tpl = decodeMessage(v1With('00 06 00 24 00 00 10 00 00 09' + PLAIN.slice(29)));
    expect(tpl.entries[0]).toMatchObject({status: 'ok', oddTemplateState: true});
  });

  it('v0: truncated entry or sequence data stops; bad protocol or state skips', () => {
    const short = hex('02 00 00 1C 00 06 9C 40 01 BB 01 BB C0 00 02 0A C6 33 64 01 0A 01 00 02 01 00 00 05');
    expect(decodeMessage(short).stop).toEqual({index: 1, offset: 28, reason: 'v0-truncated'});
    const seq = hex('01 00 00 1C 00 06 9C 40 01 BB 01 BB C0 00 02 0A C6 33 64 01 0A 01 00 02 04 00 00 05');
    expect(decodeMessage(seq).stop).toEqual({index: 0, offset: 4, reason: 'v0-truncated-options'});
    const bad = hex(`02 00 00 34
      00 84 9C 40 01 BB 01 BB C0 00 02 0A C6 33 64 01 0A 01 00 02 01 00 00 0E
      00 2F 9C 40 01 BB 01 BB C0 00 02 0A C6 33 64 01 0A 01 00 02 01 00 00 00`);
    const d = decodeMessage(bad);
    expect(d.entries.map((e) => [e.status, e.reason])).toEqual([['skip', 'invalid-state'], ['skip', 'unsupported-protocol']]);
  });

  it('SCTP states 0..13 are valid, 14 is not', () => {
    const mk = (st: number) => encodeV1Message(0, [conn({proto: 132, state: st, cport: 1})]);
    expect(decodeMessage(mk(13)).entries[0]!.status).toBe('ok');
    expect(decodeMessage(mk(14)).entries[0]!.reason).toBe('invalid-state');
  });
});
