// The server's host key: generated (ed25519, OpenSSH format) on first start and kept, mode 0600.
// An existing key readable by others is refused, as sshd does.
import {chmodSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {dirname} from 'node:path';
import ssh2 from 'ssh2';
import {fingerprint} from './authorized-keys.js';

const {utils} = ssh2;

export interface HostKey {
  pem: Buffer;
  fingerprint: string;
  created: boolean;
}

/**
 * A new ed25519 key pair in OpenSSH format that ssh2 can read back. ssh2 1.17's generator strips
 * leading zero bytes of the public key, so about 1 pair in 256 is unreadable (mscdex/ssh2 issues
 * 1390 and 1513): such a pair is discarded and another one made.
 */
export function generateEd25519(comment: string): {private: string; public: string} {
  for (let tries = 0; ; tries++) {
    const pair = utils.generateKeyPairSync('ed25519', {comment});
    const ok = !(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error);
    if (ok) return pair;
    if (tries >= 32) throw new Error('could not generate a readable ed25519 key');
  }
}

export function ensureHostKey(path: string): HostKey {
  let created = false;
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!st) {
    mkdirSync(dirname(path), {recursive: true, mode: 0o700});
    const pair = generateEd25519('lvsdeck host key');
    // 'wx': never overwrite a key another process just wrote
    writeFileSync(path, pair.private, {mode: 0o600, flag: 'wx'});
    chmodSync(path, 0o600); // whatever the umask
    created = true;
  } else if ((st.mode & 0o077) !== 0) {
    throw new Error(`host key ${path} is accessible by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 ${path}`);
  }
  const pem = readFileSync(path);
  const parsed = utils.parseKey(pem);
  if (parsed instanceof Error || Array.isArray(parsed)) {
    throw new Error(`host key ${path}: ${parsed instanceof Error ? parsed.message : 'several keys in one file'}`);
  }
  if (!parsed.isPrivateKey()) throw new Error(`host key ${path} is not a private key`);
  return {pem, fingerprint: fingerprint(parsed.getPublicSSH()), created};
}
