// What ipvsadm gets from the C library, made deterministic: inet_aton(3) for IPv4 text, and a
// built-in excerpt of /etc/services (Debian netbase) for getservbyname/getservbyport. There is no
// DNS: host names are not resolved (ipvsadm would call gethostbyname), and listings without -n
// print addresses numerically (as ipvsadm does when reverse lookups fail) but ports by name.
import {IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP} from '../engine/constants.js';

/**
 * inet_aton: 1 to 4 parts separated by '.', each decimal, 0x-hex or 0-octal; the last part fills
 * the remaining bytes ("10.1" = 10.0.0.1, "24" = 0.0.0.24). Returns the host-order value or null.
 */
export function inetAton(text: string): number | null {
  if (text.length === 0) return null;
  const parts = text.split('.');
  if (parts.length > 4) return null;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) n = p.length === 1 ? 0 : parseInt(p.slice(1), 8);
    else if (/^[1-9][0-9]*$/.test(p)) n = Number(p);
    else return null;
    if (!Number.isFinite(n)) return null;
    nums.push(n);
  }
  const last = nums[nums.length - 1]!;
  const lead = nums.slice(0, -1);
  if (lead.some((x) => x > 255)) return null;
  const restBytes = 4 - lead.length;
  if (last >= 2 ** (8 * restBytes)) return null;
  let v = 0;
  for (const x of lead) v = v * 256 + x;
  v = v * 2 ** (8 * restBytes) + last;
  return v >>> 0;
}

type ProtoKey = 'tcp' | 'udp' | 'sctp';

/** name, port, protocols (t = tcp, u = udp, s = sctp), from Debian's /etc/services. */
const SERVICES: readonly [string, number, string][] = [
  ['ftp-data', 20, 't'], ['ftp', 21, 'ts'], ['ssh', 22, 'ts'], ['telnet', 23, 't'], ['smtp', 25, 't'],
  ['domain', 53, 'tu'], ['tftp', 69, 'u'], ['gopher', 70, 't'], ['finger', 79, 't'], ['http', 80, 'tus'],
  ['kerberos', 88, 'tu'], ['pop3', 110, 't'], ['sunrpc', 111, 'tu'], ['auth', 113, 't'], ['nntp', 119, 't'],
  ['ntp', 123, 'u'], ['epmap', 135, 'tu'], ['netbios-ns', 137, 'u'], ['netbios-dgm', 138, 'u'],
  ['netbios-ssn', 139, 't'], ['imap2', 143, 't'], ['snmp', 161, 'tu'], ['snmp-trap', 162, 'tu'],
  ['bgp', 179, 't'], ['irc', 194, 't'], ['ldap', 389, 'tu'], ['https', 443, 'tus'],
  ['microsoft-ds', 445, 't'], ['kpasswd', 464, 'tu'], ['submissions', 465, 't'], ['syslog', 514, 'u'],
  ['printer', 515, 't'], ['submission', 587, 't'], ['ldaps', 636, 'tu'], ['rsync', 873, 't'],
  ['ftps-data', 989, 't'], ['ftps', 990, 't'], ['telnets', 992, 't'], ['imaps', 993, 't'], ['pop3s', 995, 't'],
  ['socks', 1080, 't'], ['openvpn', 1194, 'tu'], ['ms-sql-s', 1433, 't'], ['radius', 1812, 'tu'],
  ['radius-acct', 1813, 'tu'], ['nfs', 2049, 'tu'], ['gsiftp', 2811, 't'], ['mysql', 3306, 't'],
  ['ms-wbt-server', 3389, 't'], ['svn', 3690, 't'], ['sip', 5060, 'tu'], ['sip-tls', 5061, 'tu'],
  ['xmpp-client', 5222, 't'], ['xmpp-server', 5269, 't'], ['postgresql', 5432, 't'], ['amqp', 5672, 'ts'],
  ['x11', 6000, 't'], ['http-alt', 8080, 't'], ['zabbix-agent', 10050, 't'], ['zabbix-trapper', 10051, 't'],
];

const BY_NAME = new Map<string, number>();
const BY_PORT = new Map<string, string>();
for (const [name, port, protos] of SERVICES) {
  for (const [letter, key] of [['t', 'tcp'], ['u', 'udp'], ['s', 'sctp']] as const) {
    if (!protos.includes(letter)) continue;
    BY_NAME.set(`${key}/${name}`, port);
    BY_PORT.set(`${key}/${port}`, name);
  }
}

function protoKey(proto: number): ProtoKey | null {
  if (proto === IPPROTO_TCP) return 'tcp';
  if (proto === IPPROTO_UDP) return 'udp';
  if (proto === IPPROTO_SCTP) return 'sctp';
  return null;
}

/** getservbyname for the service's protocol; -1 if unknown (ipvsadm's service_to_port). */
export function serviceToPort(name: string, proto: number): number {
  const k = protoKey(proto);
  if (!k) return -1;
  return BY_NAME.get(`${k}/${name}`) ?? -1;
}

/** ipvsadm's port_to_anyname: the service name for the protocol, else the number. */
export function portToAnyname(port: number, proto: number): string {
  const k = protoKey(proto);
  return (k && BY_PORT.get(`${k}/${port}`)) || String(port);
}
