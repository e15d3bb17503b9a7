// Forms for adding and editing services, real servers and traffic generators. A form is a list of
// text fields; submitting composes the equivalent command-bar line (so forms and the bar share
// one parser and one path through the actions module) and runs it.
import {formatAddrPort} from '../engine/addr.js';
import {describeKey} from '../store/actions.js';
import type {FormState, UiSession} from '../store/session.js';
import {ATTACK_DEFAULT_RATE} from '../store/session.js';
import {runCommandLine} from './commands.js';

const FWD_SHORT: Record<string, string> = {masq: 'masq', route: 'route', tunnel: 'tunnel', local: 'route', bypass: 'route'};
const FWD_FLAG: Record<string, string> = {masq: '-m', m: '-m', nat: '-m', route: '-g', g: '-g', dr: '-g', tunnel: '-i', i: '-i', tun: '-i', ipip: '-i'};

function field(name: string, label: string, value: string, hint?: string) {
  return {name, label, value, hint};
}

export function openAddDest(session: UiSession): void {
  const row = session.selectedServiceRow();
  const svc = row ? session.backend.serviceConfig(row.svcId) : null;
  if (!svc) { session.say('select a service first (or use : -a -t VIP:PORT -r RS:PORT -m -w 1)', 'warn'); return; }
  const port = svc.key.kind === 'addr' ? svc.key.port : 0;
  openForm(session, {
    title: `Add real server to ${describeKey(svc.key)}`, kind: 'add-dest', ctx: {svcId: row!.svcId},
    fields: [
      field('server', 'Real server', '', `ADDR[:PORT] (port defaults to ${port})`),
      field('fwd', 'Forwarding', 'masq', 'masq | route | tunnel'),
      field('weight', 'Weight', '1', '0..2147483647 (0 = quiesced)'),
      field('upper', 'Upper threshold', '0', 'max connections, 0 = none'),
      field('lower', 'Lower threshold', '0', 'resume below, 0 = none'),
    ],
  });
}

export function openEditSelected(session: UiSession): void {
  const row = session.selectedServiceRow();
  if (!row) return;
  if (row.kind === 'dest') {
    const d = session.backend.destConfig(row.destId);
    if (!d) return;
    openForm(session, {
      title: `Edit real server ${formatAddrPort(d.addr, d.port)} of ${describeKey(d.key)}`, kind: 'edit-dest',
      ctx: {destId: row.destId},
      fields: [
        field('fwd', 'Forwarding', FWD_SHORT[d.opts.fwd] ?? 'route', 'masq | route | tunnel'),
        field('weight', 'Weight', String(d.opts.weight), '0 = quiesced'),
        field('upper', 'Upper threshold', String(d.opts.uThreshold), 'max connections, 0 = none'),
        field('lower', 'Lower threshold', String(d.opts.lThreshold), 'resume below, 0 = none'),
      ],
    });
    return;
  }
  const s = session.backend.serviceConfig(row.svcId);
  if (!s) return;
  openForm(session, {
    title: `Edit service ${describeKey(s.key)}`, kind: 'edit-service', ctx: {svcId: row.svcId},
    fields: [
      field('scheduler', 'Scheduler', s.opts.scheduler, 'rr wrr lc wlc sed nq dh sh lblc lblcr mh fo ovf twos'),
      field('persistent', 'Persistent (s)', s.opts.persistTimeout ? String(Math.round(s.opts.persistTimeout / 1000)) : '0', '0 = not persistent'),
    ],
  });
}

export function openAddService(session: UiSession): void {
  openForm(session, {
    title: 'Add virtual service', kind: 'add-service', ctx: {},
    fields: [
      field('proto', 'Protocol', 'tcp', 'tcp | udp | sctp'),
      field('vip', 'Virtual address', '', 'VIP:PORT, e.g. 10.0.0.4:80'),
      field('scheduler', 'Scheduler', 'wlc', 'rr wrr lc wlc sed nq dh sh lblc lblcr mh fo ovf twos'),
      field('persistent', 'Persistent (s)', '0', '0 = not persistent'),
    ],
  });
}

export function openAddTraffic(session: UiSession, kind = 'clients', to = ''): void {
  openForm(session, {
    title: 'Start traffic', kind: 'add-traffic', ctx: {},
    fields: [
      field('kind', 'Kind', kind, 'clients synflood connflood ackflood rstflood udpflood portreuse'),
      field('to', 'Target', to, 'VIP:PORT'),
      field('rate', 'Rate (/s)', String(ATTACK_DEFAULT_RATE[kind] ?? 100), 'sessions or packets per second'),
    ],
  });
}

export function openTrafficRate(session: UiSession, id: string, rate: number): void {
  openForm(session, {
    title: `Rate of ${id}`, kind: 'traffic-rate', ctx: {id},
    fields: [field('rate', 'Rate (/s)', String(rate), 'per second')],
  });
}

function openForm(session: UiSession, f: Omit<FormState, 'focus' | 'error'>): void {
  session.openOverlay({kind: 'form', form: {...f, focus: 0, error: null}});
}

/** Compose the command line the form stands for. */
export function formToCommand(session: UiSession, f: FormState): string | {error: string} {
  const v = (name: string) => (f.fields.find((x) => x.name === name)?.value ?? '').trim();
  const num = (name: string) => {
    const x = v(name);
    return x === '' ? '0' : x;
  };
  const fwdFlag = (x: string) => FWD_FLAG[x.toLowerCase()];
  switch (f.kind) {
    case 'add-dest': {
      const svc = session.backend.serviceConfig(Number(f.ctx.svcId));
      if (!svc) return {error: 'the service is gone'};
      if (!v('server')) return {error: 'Real server: ADDR[:PORT] is required'};
      const flag = fwdFlag(v('fwd'));
      if (!flag) return {error: `Forwarding: '${v('fwd')}' is not masq, route or tunnel`};
      return `-a ${describeKey(svc.key)} -r ${v('server')} ${flag} -w ${num('weight')} -x ${num('upper')} -y ${num('lower')}`;
    }
    case 'edit-dest': {
      const d = session.backend.destConfig(Number(f.ctx.destId));
      if (!d) return {error: 'the real server is gone'};
      const flag = fwdFlag(v('fwd'));
      if (!flag) return {error: `Forwarding: '${v('fwd')}' is not masq, route or tunnel`};
      return `-e ${describeKey(d.key)} -r ${formatAddrPort(d.addr, d.port)} ${flag} -w ${num('weight')} -x ${num('upper')} -y ${num('lower')}`;
    }
    case 'edit-service': {
      const s = session.backend.serviceConfig(Number(f.ctx.svcId));
      if (!s) return {error: 'the service is gone'};
      const p = num('persistent');
      return `-E ${describeKey(s.key)} -s ${v('scheduler') || 'wlc'}${p !== '0' ? ` -p ${p}` : ''}`;
    }
    case 'add-service': {
      const proto = v('proto').toLowerCase();
      const flag = proto === 'tcp' ? '-t' : proto === 'udp' ? '-u' : proto === 'sctp' ? '--sctp-service' : null;
      if (!flag) return {error: `Protocol: '${proto}' is not tcp, udp or sctp`};
      if (!v('vip')) return {error: 'Virtual address: VIP:PORT is required'};
      const p = num('persistent');
      return `-A ${flag} ${v('vip')} -s ${v('scheduler') || 'wlc'}${p !== '0' ? ` -p ${p}` : ''}`;
    }
    case 'add-traffic':
      return `attack ${v('kind')} ${v('to')} ${num('rate')}`;
    case 'traffic-rate':
      return `attack rate ${f.ctx.id} ${num('rate')}`;
  }
}

/** Submit the open form: on success it closes; on error it stays open with the message. */
export function submitForm(session: UiSession): void {
  const o = session.state.overlay;
  if (o?.kind !== 'form') return;
  const line = formToCommand(session, o.form);
  if (typeof line !== 'string') {
    session.store.setState({overlay: {kind: 'form', form: {...o.form, error: line.error}}});
    return;
  }
  const r = runCommandLine(session, line, {fromForm: true});
  if (r.ok) session.closeOverlay();
  else {
    const cur = session.state.overlay;
    if (cur?.kind === 'form') session.store.setState({overlay: {kind: 'form', form: {...cur.form, error: r.message}}});
  }
}
