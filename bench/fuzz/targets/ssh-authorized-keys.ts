// authorized_keys files: valid lines with their options mutated (roles, repeated options, quotes,
// from= patterns, expiry times, control and bidi characters in names) and garbage lines.
// parseAuthorizedKeys never throws; every key it keeps has a valid role, a clean name, and the
// role of the first LVSDECK_ROLE option (sshd keeps the first of a repeated environment name).
import {ROLES} from '../../../src/store/actions.js';
import {parseAuthorizedKeys} from '../../../src/ssh/authorized-keys.js';
import {generateEd25519} from '../../../src/ssh/host-key.js';
import {type Rng, chance, int, mutateText, pick, randomText} from '../mutate.js';

const PUBS = [0, 1, 2].map((i) => generateEd25519(`k${i}`).public.split(' ').slice(0, 2).join(' '));
const OPTIONS = [
  'environment="LVSDECK_ROLE=admin"', 'environment="LVSDECK_ROLE=reader"', 'environment="LVSDECK_ROLE=operator"',
  'environment="LVSDECK_ROLE=ADMIN "', 'environment="LVSDECK_ROLE=bogus"', 'environment="LVSDECK_USER=ops (admin)\\nlogin"',
  'environment="LVSDECK_USER=\x1b[2J\u202eevil"', 'from="127.0.0.1"', 'from="10.0.0.0/8,!10.1.2.3"', 'from="*"', 'no-pty',
  'restrict', 'pty', 'command="ipvsadm -Ln"', 'command="who"', 'expiry-time="20990101"', 'expiry-time="2020"',
  'no-port-forwarding', 'cert-authority', 'principals="x"', 'environment="NOEQ"', 'tunnel="1"', 'permitopen="a:1"',
];
const TOKENS = ['"', ',', ' ', '=', '\\"', '\n', '\r', '#', 'environment=', 'LVSDECK_ROLE=', 'admin', 'ssh-ed25519 ', 'AAAA', '\x00', '\u202e'];

function firstRole(opts: string[]): string | undefined {
  for (const o of opts) {
    const m = /^environment="LVSDECK_ROLE=([^"]*)"$/.exec(o);
    if (m) return m[1];
  }
  return undefined;
}

export default {
  name: 'ssh-authorized-keys',
  run(rng: Rng): void {
    const lines: string[] = [];
    const expected: (string | undefined)[] = [];
    const n = 1 + int(rng, 6);
    for (let i = 0; i < n; i++) {
      const opts = Array.from({length: int(rng, 5)}, () => pick(rng, OPTIONS));
      const clean = `${opts.length ? `${opts.join(',')} ` : ''}${PUBS[i % PUBS.length]} ${chance(rng, 0.3) ? randomText(rng, int(rng, 40)) : `user${i}`}`;
      if (chance(rng, 0.6)) {
        lines.push(clean);
        expected.push(i < PUBS.length ? firstRole(opts) ?? '' : undefined);
      } else {
        lines.push(mutateText(rng, clean, TOKENS, 4));
        expected.push(undefined);
      }
    }
    const text = lines.join(chance(rng, 0.1) ? '\r\n' : '\n');
    const r = parseAuthorizedKeys(text);
    for (const k of r.keys) {
      if (!ROLES.includes(k.role)) throw new Error(`role ${k.role}`);
      if (k.name.length > 32 || /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(k.name)) throw new Error(`unclean name ${JSON.stringify(k.name)}`);
      const want = expected[k.line - 1];
      if (want !== undefined && lines.length === text.split(/\r?\n/).length) {
        const role = want.trim().toLowerCase();
        const should = (ROLES as readonly string[]).includes(role) ? role : 'reader';
        if (k.role !== should) throw new Error(`line ${k.line}: role ${k.role}, the first LVSDECK_ROLE says ${should}`);
      }
    }
  },
};
