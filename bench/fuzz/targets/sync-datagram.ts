// Sync datagrams at a backup: valid v0 and v1 messages of random entries (every protocol, flag,
// state, timeout, sequence and persistence-engine option), mutated as bytes. The backup's receive
// path decodes, checks and applies; it must never throw on what arrives.
import {parseAddr} from '../../../src/engine/addr.js';
import {CONN_F} from '../../../src/engine/constants.js';
import type {SyncConn} from '../../../src/engine/sync-conn.js';
import {SyncBackup} from '../../../src/sync/backup.js';
import {encodeV0Message, encodeV1Message} from '../../../src/sync/codec.js';
import {type Rng, chance, int, mutateBytes, pick, smallEngine} from '../mutate.js';

const ip = (t: string) => parseAddr(t)!.addr;
const V4 = ['192.0.2.1', '192.0.2.2', '198.51.100.1', '10.1.0.2', '10.1.0.3', '0.0.0.0'].map(ip);
const V6 = ['2001:db8::1', '2001:db8::10', '2001:db8:1::2'].map(ip);
const PORTS = [0, 53, 80, 443, 1000, 40000, 65535];
const FLAGS = [CONN_F.TEMPLATE, CONN_F.INACTIVE, CONN_F.NOOUTPUT, CONN_F.IN_SEQ, CONN_F.OUT_SEQ, CONN_F.ONE_PACKET,
  CONN_F.NO_CPORT, CONN_F.HASHED, CONN_F.SYNC, 0x4000, 0x8000, 1, 2, 3];

function conn(rng: Rng, v0: boolean): SyncConn {
  const af = !v0 && chance(rng, 0.2) ? 6 : 4;
  let flags = 0;
  for (const f of FLAGS) if (chance(rng, 0.15)) flags |= f;
  const addrs = af === 6 ? V6 : V4;
  const c: SyncConn = {
    af, proto: pick(rng, [6, 17, 132, 0, 50, int(rng, 256)]), flags: flags >>> 0,
    state: chance(rng, 0.1) ? int(rng, 65536) : int(rng, 16),
    cport: pick(rng, PORTS), vport: pick(rng, PORTS), dport: pick(rng, PORTS),
    fwmark: v0 ? 0 : pick(rng, [0, 7, int(rng, 2 ** 32)]),
    timeout: v0 ? 0 : pick(rng, [0, 60, 900, int(rng, 2 ** 32)]),
    caddr: pick(rng, addrs), vaddr: pick(rng, addrs), daddr: pick(rng, addrs),
  };
  if (flags & CONN_F.IN_SEQ || chance(rng, 0.1)) c.inSeq = {initSeq: int(rng, 2 ** 32), delta: int(rng, 2 ** 32), previousDelta: int(rng, 2 ** 32)};
  if (flags & CONN_F.OUT_SEQ) c.outSeq = {initSeq: int(rng, 2 ** 32), delta: 0, previousDelta: 0};
  if (!v0 && chance(rng, 0.1)) {
    c.peName = pick(rng, ['sip', 'xx', '']);
    c.peData = new Uint8Array(int(rng, 40)).map(() => int(rng, 256));
  }
  return c;
}

export default {
  name: 'sync-datagram',
  run(rng: Rng): void {
    const e = smallEngine();
    e.addService({kind: 'addr', af: 4, proto: 'tcp', addr: V4[2]!, port: 443}, {scheduler: 'rr'});
    e.addDest({kind: 'addr', af: 4, proto: 'tcp', addr: V4[2]!, port: 443}, 4, V4[3]!, 443, {fwd: 'masq'});
    const cfg = e.startDaemon({role: 'backup', syncId: chance(rng, 0.5) ? 0 : 9});
    const backup = new SyncBackup(e, cfg);
    const datagrams = 1 + int(rng, 3);
    for (let d = 0; d < datagrams; d++) {
      const v0 = chance(rng, 0.3);
      const entries = Array.from({length: int(rng, 6)}, () => conn(rng, v0));
      let bytes: Uint8Array;
      try {
        bytes = v0 ? encodeV0Message(pick(rng, [0, 9]), entries) : encodeV1Message(pick(rng, [0, 9]), entries);
      } catch {
        bytes = new Uint8Array(int(rng, 64)).map(() => int(rng, 256)); // the encoder refused: random bytes instead
      }
      if (chance(rng, 0.7)) bytes = mutateBytes(rng, bytes);
      backup.receive(bytes, '127.0.0.1');
      // mostly short steps: a tick walks the timer wheel and the once-a-second defense update
      if (chance(rng, 0.3)) e.tick(e.now + (chance(rng, 0.05) ? int(rng, 3_600_000) : int(rng, 20_000)));
    }
  },
};
