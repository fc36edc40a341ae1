/**
 * Why io_uring_setup failed, in words: the errno alone (EPERM, ENOSYS) does not say whether a
 * sysctl, a seccomp profile or the kernel refused, and each has a different remedy.
 */
import { readFileSync } from 'node:fs';
import { ENOMEM, ENOSYS, EPERM } from '../constants.js';

/**
 * Why io_uring cannot be had here, for the error: the sysctl and the seccomp state, read
 * from /proc, named so the reader knows what to look at. Never a fallback.
 */
export function ringRefusal(errno: number): string {
  const disabled = readProc('/proc/sys/kernel/io_uring_disabled');
  const seccomp = /^Seccomp:\s*(\d)/m.exec(readProc('/proc/self/status') ?? '')?.[1];
  if (errno === -ENOSYS)
    return seccomp === '2'
      ? 'this process runs under a seccomp filter, which may answer ENOSYS for io_uring_setup (see its profile); or the kernel has no io_uring (Linux 5.1+, CONFIG_IO_URING)'
      : 'this kernel has no io_uring (Linux 5.1+, CONFIG_IO_URING)';
  if (errno === -EPERM) {
    const why: string[] = [];
    if (disabled === '2') why.push('sysctl kernel.io_uring_disabled=2 refuses io_uring to every process');
    else if (disabled === '1')
      why.push('sysctl kernel.io_uring_disabled=1 allows io_uring only to the group kernel.io_uring_group');
    if (seccomp === '2')
      why.push(
        "this process runs under a seccomp filter (Docker's default profile and Kubernetes' RuntimeDefault refuse io_uring_setup)",
      );
    if (why.length === 0) why.push('see sysctl kernel.io_uring_disabled and the seccomp profile (/proc/self/status)');
    return why.join('; ');
  }
  if (errno === -ENOMEM) return 'the ring could not be allocated or locked (see ulimit -l, RLIMIT_MEMLOCK)';
  return 'io_uring_setup failed';
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1').trim();
  } catch {
    return undefined;
  }
}
