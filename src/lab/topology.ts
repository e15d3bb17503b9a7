// The lab's addressing plan, in one place for the lab, the data plane's attach step, the example
// config, the tests and the benchmark. Everything lives in network namespaces: the host's own
// namespace is never changed. IPv4 from the benchmarking range 198.18.0.0/15 (RFC 2544), IPv6
// from a unique-local prefix; no namespace has a default route, so lab traffic cannot leave.
import {formatIPv4, parseIPv4} from '../engine/addr.js';

export const LAB_PREFIX = 'lvs-';
export const DIRECTOR_NS = 'lvs-director';
export const CLIENT_NS = 'lvs-client';
export const TUN_DEV = 'lvs-tun0';
export const BRIDGE = 'lvs-br0';
export const CLIENT_LINK = 'lvs-c0';
/** Policy-routing table in the director namespace for real-server replies. */
export const REPLY_TABLE = 198;

export const LAB_NET4 = '198.18.0.0/15';
export const LAB_NET6 = 'fd00:18::/48';
export const VIP4 = '198.18.0.10';
export const VIP6 = 'fd00:18::10';
export const VIP_NET4 = '198.18.0.0/24';
export const VIP_NET6 = 'fd00:18::/64';
export const DIRECTOR_CLIENT4 = '198.18.1.1';
export const DIRECTOR_CLIENT6 = 'fd00:18:0:1::1';
export const DIRECTOR_SERVER4 = '198.18.2.1';
export const DIRECTOR_SERVER6 = 'fd00:18:0:2::1';
/** Client addresses: the first is the default source; the others let tests pick a source (sh). */
export const CLIENT4 = ['198.18.1.2', '198.18.1.3', '198.18.1.4', '198.18.1.5'];
export const CLIENT6 = 'fd00:18:0:1::2';
/** Spoofed attack sources: routed to the client namespace, where nobody owns them. */
export const SPOOF_NET4 = '198.18.128.0/17';
export const SPOOF_NET6 = 'fd00:18:0:80::/64';
export const HTTP_PORT = 80;
export const UDP_ECHO_PORT = 7;
export const MAX_SERVERS = 8;

export interface RealServer {
  name: string;
  ns: string;
  /** The director-side end of its veth (on the bridge). */
  link: string;
  addr4: string;
  addr6: string;
}

export function realServers(n: number): RealServer[] {
  if (!Number.isInteger(n) || n < 1 || n > MAX_SERVERS) throw new Error(`the lab has 1 to ${MAX_SERVERS} real servers, not ${n}`);
  return Array.from({length: n}, (_, i) => ({
    name: `rs${i + 1}`, ns: `lvs-rs${i + 1}`, link: `lvs-rs${i + 1}`,
    addr4: formatIPv4(parseIPv4('198.18.2.11')! + i), addr6: `fd00:18:0:2::${(0x11 + i).toString(16)}`,
  }));
}

/**
 * Routes through the TUN device in the director namespace: traffic to the virtual addresses, and
 * (table REPLY_TABLE, chosen for packets from the real servers' bridge) replies to any lab address.
 */
export function tunRoutes(dev: string): string[][] {
  return [
    ['-4', 'route', 'replace', VIP_NET4, 'dev', dev],
    ['-6', 'route', 'replace', VIP_NET6, 'dev', dev],
    ['-4', 'route', 'replace', LAB_NET4, 'dev', dev, 'table', String(REPLY_TABLE)],
    ['-6', 'route', 'replace', LAB_NET6, 'dev', dev, 'table', String(REPLY_TABLE)],
  ];
}
