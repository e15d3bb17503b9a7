// ipvsadm's ways of failing: fail() (message, exit 2), tryhelp_exit (exit 255), popt errors
// (exit 255), and kernel errors reported through libipvs's ipvs_strerror (exit 255).
import type {Errno} from '../engine/errors.js';

export const PROGRAM = 'ipvsadm';

/** Thrown to stop processing a command, like the C code's exit(): stderr text and exit status. */
export class IpvsadmExit extends Error {
  constructor(readonly code: number, readonly stderr: string, readonly stdout = '') {
    super(stderr.replace(/\n+$/, '') || `exit ${code}`);
    this.name = 'IpvsadmExit';
  }
}

/** fail(err, msg): print msg and a newline to stderr, exit err (always 2 in ipvsadm). */
export function fail(msg: string, code = 2): never {
  throw new IpvsadmExit(code, `${msg}\n`);
}

export const TRYHELP = `Try \`${PROGRAM} -h' or '${PROGRAM} --help' for more information.\n`;

export function tryhelpExit(): never {
  throw new IpvsadmExit(255, TRYHELP);
}

/** libipvs functions, for ipvs_strerror's per-operation messages. */
export type LibipvsOp =
  | 'add_service' | 'update_service' | 'del_service' | 'zero_service' | 'add_dest' | 'update_dest'
  | 'del_dest' | 'start_daemon' | 'stop_daemon' | 'get_services' | 'get_dests' | 'get_service'
  | 'set_timeout' | 'flush' | 'get_timeout' | 'get_daemon';

const PER_OP: Partial<Record<LibipvsOp, Partial<Record<string, string>>>> = {
  add_service: {EEXIST: 'Service already exists', ENOENT: 'Scheduler or persistence engine not found'},
  update_service: {ESRCH: 'No such service', ENOENT: 'Scheduler or persistence engine not found'},
  del_service: {ESRCH: 'No such service'},
  zero_service: {ESRCH: 'No such service'},
  add_dest: {ESRCH: 'Service not defined', EEXIST: 'Destination already exists'},
  update_dest: {ESRCH: 'Service not defined', ENOENT: 'No such destination'},
  del_dest: {ESRCH: 'Service not defined', ENOENT: 'No such destination'},
  start_daemon: {EEXIST: 'Daemon has already run'},
  stop_daemon: {ESRCH: 'No daemon is running'},
  get_services: {ESRCH: 'No such service'},
  get_dests: {ESRCH: 'No such service'},
  get_service: {ESRCH: 'No such service'},
};

/** Generic entries of libipvs's table, then strerror(3). */
const GENERIC: Record<string, string> = {
  EPERM: 'Permission denied (you must be root)',
  EINVAL: 'Invalid operation.  Possibly wrong module version, address not unicast, ...',
  ENOPROTOOPT: 'Protocol not available',
  ENOMEM: 'Memory allocation problem',
  EOPNOTSUPP: 'Operation not supported with IPv6',
  EAFNOSUPPORT: 'Operation not supported with specified address family',
  EMSGSIZE: 'Module is wrong version',
};

const STRERROR: Record<string, string> = {
  EEXIST: 'File exists',
  ESRCH: 'No such process',
  ENOENT: 'No such file or directory',
  ERANGE: 'Numerical result out of range',
  EFAULT: 'Bad address',
  ENODEV: 'No such device',
  EINVAL: 'Invalid argument',
  EPERM: 'Operation not permitted',
  EACCES: 'Permission denied',
};

/** ipvs_strerror(errno) as seen after the libipvs call `op` failed. */
export function ipvsStrerror(op: LibipvsOp, errno: Errno | string): string {
  return PER_OP[op]?.[errno] ?? GENERIC[errno] ?? STRERROR[errno] ?? `Unknown error (${errno})`;
}

/** strerror(3) text, for sysctl's messages. */
export function strerror(errno: string): string {
  return STRERROR[errno] ?? errno;
}
