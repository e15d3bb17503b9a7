// authorized_keys parsing for `lvsdeck serve`: roles from environment="LVSDECK_ROLE=...", names,
// OpenSSH options (honoured, ignored, unknown), comments, bad lines, from= patterns.
import ssh2 from 'ssh2';
import {describe, expect, test} from 'vitest';
import {generateEd25519} from '../src/ssh/host-key.js';
import {
  fingerprint, fromAllows, parseAuthorizedKeys, parseExpiry, splitOptions,
} from '../src/ssh/authorized-keys.js';

const {utils} = ssh2;
const pub = (type: 'ed25519' | 'ecdsa' = 'ed25519', comment = '') => {
  const k = type === 'ecdsa' ? utils.generateKeyPairSync('ecdsa', {bits: 256, comment}) : generateEd25519(comment);
  return k.public.split(' ').slice(0, 2).join(' ');
};
const A = pub(), B = pub(), C = pub('ecdsa'), D = pub(), E = pub();

describe('authorized_keys: roles and names', () => {
  test('role from environment="LVSDECK_ROLE=..."; missing or unknown role is reader', () => {
    const text = [
      '# operators of the demo box',
      `environment="LVSDECK_ROLE=operator" ${A} alice@laptop`,
      `environment="LVSDECK_ROLE=ADMIN",environment="LVSDECK_USER=root-on-call" ${B} ops key`,
      `${C} carol`,
      `environment="LVSDECK_ROLE=superuser" ${D} dave`,
      '',
    ].join('\n');
    const r = parseAuthorizedKeys(text);
    expect(r.keys.map((k) => [k.name, k.role, k.line])).toEqual([
      ['alice@laptop', 'operator', 2], ['root-on-call', 'admin', 3], ['carol', 'reader', 4], ['dave', 'reader', 5],
    ]);
    expect(r.warnings).toEqual([{line: 5, message: expect.stringMatching(/LVSDECK_ROLE=superuser: not one of reader, operator, admin; this key is a reader/)}]);
    expect(r.keys[2]!.type).toBe('ecdsa-sha2-nistp256');
    expect(r.keys[0]!.env).toEqual({LVSDECK_ROLE: 'operator'});
  });

  test('repeated options follow sshd (auth-options.c): the first LVSDECK_ROLE counts, two from=/command= skip the line, the earliest expiry counts', () => {
    const r = parseAuthorizedKeys([
      `environment="LVSDECK_ROLE=reader",environment="LVSDECK_ROLE=admin" ${A} raise`,
      `environment="LVSDECK_ROLE=admin",environment="LVSDECK_ROLE=reader" ${B} first-admin`,
      `environment="LVSDECK_ROLE=bogus",environment="LVSDECK_ROLE=admin" ${C} bogus-first`,
      `from="10.0.0.1",from="127.0.0.1" ${D} two-from`,
      `command="who",command="ipvsadm -Ln" ${E} two-commands`,
      `expiry-time="20990101",expiry-time="20200101",expiry-time="20980101" ${D} expiries`,
    ].join('\n'));
    expect(r.keys.map((k) => [k.name, k.role])).toEqual([
      ['raise', 'reader'], ['first-admin', 'admin'], ['bogus-first', 'reader'], ['expiries', 'reader'],
    ]);
    expect(r.keys[0]!.env).toEqual({LVSDECK_ROLE: 'reader'});
    expect(r.keys[3]!.expires).toBe(new Date(2020, 0, 1).getTime());
    expect(r.warnings).toEqual(expect.arrayContaining([
      {line: 1, message: "LVSDECK_ROLE given again ('admin'); the first one ('reader') counts"},
      {line: 3, message: expect.stringMatching(/LVSDECK_ROLE=bogus: not one of .*; this key is a reader/)},
      {line: 4, message: 'multiple from= options; line skipped'},
      {line: 5, message: 'multiple command= options; line skipped'},
    ]));
  });

  test('the name is LVSDECK_USER, else the comment (cleaned), else the short fingerprint', () => {
    const r = parseAuthorizedKeys([`${A}   Alice   Smith \x07 `, B].join("\n"));
    expect(r.keys[0]!.name).toBe('Alice Smith');
    expect(r.keys[0]!.comment).toBe('Alice   Smith \x07');
    expect(r.keys[1]!.name).toMatch(/^SHA256:[A-Za-z0-9+/]{8}$/);
    expect(r.keys[1]!.fingerprint).toBe(fingerprint(r.keys[1]!.blob));
  });

  test('fingerprints match ssh-keygen -l (SHA256, base64 without padding)', () => {
    const r = parseAuthorizedKeys(A);
    expect(r.keys[0]!.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(r.keys[0]!.blob.equals(Buffer.from(A.split(' ')[1]!, 'base64'))).toBe(true);
  });
});

describe('authorized_keys: options', () => {
  test('honoured options: from, no-pty, restrict, pty, command, expiry-time', () => {
    const r = parseAuthorizedKeys([
      `from="10.0.0.0/8,!10.9.9.9",no-pty ${A} a`,
      `restrict,command="ipvsadm -Ln" ${B} b`,
      `restrict,pty ${C} c`,
      `expiry-time="20300101",no-agent-forwarding,no-port-forwarding,no-X11-forwarding,permitopen="x:1" ${D} d`,
    ].join('\n'));
    expect(r.warnings).toEqual([]);
    const [a, b, c, d] = r.keys;
    expect(a!.from).toEqual(['10.0.0.0/8', '!10.9.9.9']);
    expect(a!.noPty).toBe(true);
    expect(b!.command).toBe('ipvsadm -Ln');
    expect(b!.noPty).toBe(true);
    expect(c!.noPty).toBe(false);
    expect(d!.expires).toBe(new Date(2030, 0, 1).getTime());
    expect(d!.role).toBe('reader');
  });

  test('quoted values may hold commas, blanks and escaped quotes', () => {
    const r = parseAuthorizedKeys(`command="echo \\"a, b\\"",environment="LVSDECK_USER=Bob O, ops" ${A} x`);
    expect(r.warnings).toEqual([]);
    expect(r.keys[0]!.command).toBe('echo "a, b"');
    expect(r.keys[0]!.name).toBe('Bob O, ops');
  });

  test('unknown or unsupported options skip the line (as sshd does); the other lines still load', () => {
    const r = parseAuthorizedKeys([
      `cert-authority ${A} ca`,
      `no-ptty ${B} typo`,
      `environment="NOEQUALS" ${C} bad-env`,
      `expiry-time="2030" ${D} bad-expiry`,
      `environment="LVSDECK_ROLE=admin" ${E} good`,
    ].join('\n'));
    expect(r.keys.map((k) => k.name)).toEqual(['good']);
    expect(r.warnings.map((w) => w.line)).toEqual([1, 2, 3, 4]);
    expect(r.warnings[0]!.message).toMatch(/unsupported option 'cert-authority'; line skipped/);
    expect(r.warnings[1]!.message).toMatch(/unsupported option 'no-ptty'/);
    expect(r.warnings[2]!.message).toMatch(/not NAME=VALUE/);
    expect(r.warnings[3]!.message).toMatch(/expiry-time="2030"/);
  });

  test('splitOptions: where the options end, quotes, junk', () => {
    expect(splitOptions('a,b="x y",c ssh-ed25519 AAA')).toEqual({
      options: [{name: 'a', value: undefined}, {name: 'b', value: 'x y'}, {name: 'c', value: undefined}], rest: 'ssh-ed25519 AAA',
    });
    expect(splitOptions('from=1.2.3.4 ssh-rsa A')).toEqual({options: [{name: 'from', value: '1.2.3.4'}], rest: 'ssh-rsa A'});
    expect(splitOptions('a="unterminated ssh-rsa A')).toBeNull();
    expect(splitOptions('a"b" ssh-rsa A')).toBeNull();
    expect(splitOptions(',a ssh-rsa A')).toBeNull();
  });

  test('expiry-time: date, date and time, UTC with Z', () => {
    expect(parseExpiry('20300102')).toBe(new Date(2030, 0, 2).getTime());
    expect(parseExpiry('203001021530')).toBe(new Date(2030, 0, 2, 15, 30).getTime());
    expect(parseExpiry('20300102153045Z')).toBe(Date.UTC(2030, 0, 2, 15, 30, 45));
    expect(parseExpiry('2030-01-02')).toBeNull();
  });
});

describe('authorized_keys: comments and bad lines', () => {
  test('blank lines, comments, CRLF and indentation are fine; bad lines are reported with their number', () => {
    const text = [
      '',
      '   # indented comment',
      `  ${A} indented\r`,
      'ssh-ed25519',
      'ssh-ed25519 !!!notbase64!!! x',
      `ssh-ed25519 ${C.split(' ')[1]} type mismatch`,
      'hello world',
      `ssh-ed25519-cert-v01@openssh.com ${A.split(' ')[1]} cert`,
      `${A} the same key again`,
      `environment="LVSDECK_ROLE=operator ${B}`,
      `sk-ssh-ed25519@openssh.com ${A.split(' ')[1]} security key`,
    ].join('\n');
    const r = parseAuthorizedKeys(text);
    expect(r.keys.map((k) => [k.line, k.name])).toEqual([[3, 'indented']]);
    const by = Object.fromEntries(r.warnings.map((w) => [w.line, w.message]));
    expect(Object.keys(by).map(Number)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect(by[4]).toMatch(/want \[OPTIONS\] KEYTYPE BASE64/);
    expect(by[5]).toMatch(/bad ssh-ed25519 key/);
    expect(by[6]).toMatch(/bad ssh-ed25519 key/);
    expect(by[7]).toMatch(/want \[OPTIONS\] KEYTYPE BASE64/);
    expect(by[8]).toMatch(/certificates are not supported/);
    expect(by[9]).toMatch(/the same key as line 3/);
    expect(by[10]).toMatch(/unbalanced quotes/);
    expect(by[11]).toMatch(/bad sk-ssh-ed25519@openssh\.com key/);
  });

  test('an empty file has no keys and no warnings', () => {
    expect(parseAuthorizedKeys('')).toEqual({keys: [], warnings: []});
    expect(parseAuthorizedKeys('\n# nothing\n\n')).toEqual({keys: [], warnings: []});
  });
});

describe('from= patterns', () => {
  test('wildcards, CIDR, negation, IPv4-mapped addresses', () => {
    expect(fromAllows(null, '192.0.2.1')).toBe(true);
    expect(fromAllows(['127.0.0.1'], '127.0.0.1')).toBe(true);
    expect(fromAllows(['127.0.0.1'], '::ffff:127.0.0.1')).toBe(true);
    expect(fromAllows(['10.*'], '10.1.2.3')).toBe(true);
    expect(fromAllows(['10.?.2.3'], '10.1.2.3')).toBe(true);
    expect(fromAllows(['10.*'], '110.1.2.3')).toBe(false);
    expect(fromAllows(['192.0.2.0/24'], '192.0.2.200')).toBe(true);
    expect(fromAllows(['192.0.2.0/24'], '192.0.3.1')).toBe(false);
    expect(fromAllows(['0.0.0.0/0'], '8.8.8.8')).toBe(true);
    expect(fromAllows(['10.0.0.0/8', '!10.9.9.9'], '10.9.9.9')).toBe(false);
    expect(fromAllows(['!10.9.9.9'], '10.1.1.1')).toBe(false); // a negation alone allows nobody
    expect(fromAllows(['::1'], '::1')).toBe(true);
    expect(fromAllows(['host.example.com'], '10.0.0.1')).toBe(false);
  });
});
