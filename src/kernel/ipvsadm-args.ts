// The ipvsadm command lines that make the kernel's configuration what the UI asked for: the same
// options ipvsadm -S prints (ipvsadm.c print_service_entry with FMT_RULE), built from the engine's
// service and real-server options.
import {formatAddrPort, type Addr} from '../engine/addr.js';
import {SVC_F} from '../engine/constants.js';
import {schedFlagNames} from '../ipvsadm/listing.js';
import type {DestOptions, ServiceKey, ServiceOptions} from '../engine/types.js';

/** -t/-u/--sctp-service ADDR:PORT, or -f MARK (with -6 for an IPv6 fwmark service). */
export function serviceArgs(key: ServiceKey): string[] {
  if (key.kind === 'fwmark') return key.af === 6 ? ['-f', String(key.fwmark), '-6'] : ['-f', String(key.fwmark)];
  const flag = key.proto === 'tcp' ? '-t' : key.proto === 'udp' ? '-u' : '--sctp-service';
  return [flag, formatAddrPort(key.addr, key.port)];
}

export function serviceOptionArgs(key: ServiceKey, o: Partial<ServiceOptions>): string[] {
  const out: string[] = [];
  if (o.scheduler) out.push('-s', o.scheduler);
  if (o.persistTimeout) {
    out.push('-p', String(Math.round(o.persistTimeout / 1000)));
    if (key.af === 6 && o.prefixLen !== undefined && o.prefixLen !== 128) out.push('-M', String(o.prefixLen));
    else if (key.af === 4 && o.netmask !== undefined && o.netmask >>> 0 !== 0xffffffff) {
      const m = o.netmask >>> 0;
      out.push('-M', `${m >>> 24}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}`);
    }
  }
  if (o.flags && o.flags & SVC_F.ONEPACKET) out.push('-o');
  const names = schedFlagNames(o.scheduler ?? '', o.flags ?? 0);
  if (names) out.push('-b', names);
  if (o.pe) out.push('--pe', o.pe);
  return out;
}

const FWD_SWITCH: Record<string, string> = {masq: '-m', tunnel: '-i', route: '-g', local: '-g'};

export function destArgs(addr: Addr, port: number, o: Partial<DestOptions>): string[] {
  const out = ['-r', formatAddrPort(addr, port)];
  if (o.fwd) out.push(FWD_SWITCH[o.fwd] ?? '-g');
  if (o.weight !== undefined) out.push('-w', String(o.weight));
  if (o.uThreshold !== undefined) out.push('-x', String(o.uThreshold));
  if (o.lThreshold !== undefined) out.push('-y', String(o.lThreshold));
  return out;
}
