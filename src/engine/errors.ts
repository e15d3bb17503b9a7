// Configuration errors carry the kernel's errno, so front ends can print ipvsadm's own messages.
export type Errno = 'EEXIST' | 'ESRCH' | 'ENOENT' | 'EINVAL' | 'ERANGE' | 'EFAULT' | 'ENODEV' | 'EAFNOSUPPORT';

export class IpvsError extends Error {
  constructor(readonly errno: Errno, message: string) {
    super(message);
    this.name = 'IpvsError';
  }
}
