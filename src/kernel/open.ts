// Opening the kernel backend for a front end: the refusals (no IPVS, no ipvsadm, writes without
// root) as one message, and the banner that says whether this session may change the kernel.
import {KernelBackend} from './backend.js';
import {KernelHost, KernelUnavailable} from './host.js';

export function openKernelBackend(o: {allowWrites: boolean; host?: KernelHost}):
  {backend: KernelBackend; message: string} | {error: string} {
  const host = o.host ?? new KernelHost();
  try {
    if (o.allowWrites) host.checkRoot('--allow-writes');
    const backend = new KernelBackend({allowWrites: o.allowWrites, host});
    const message = o.allowWrites
      ? 'kernel IPVS: changes go to the running kernel'
      : 'kernel IPVS, read-only: start with --allow-writes (as root) to change it';
    return {backend, message};
  } catch (err) {
    if (err instanceof KernelUnavailable) return {error: err.message};
    return {error: `kernel IPVS: ${(err as Error).message}`};
  }
}
