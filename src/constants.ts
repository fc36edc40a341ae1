/**
 * Linux's constants, with the values of the system headers the addon was built against.
 * Event masks are unsigned 32-bit values (EPOLLET is 2**31); `EPOLLIN | EPOLLET` in
 * JavaScript is negative and every API here accepts it as the same mask.
 */
import { native } from './binding/index.js';

const c = native.constants as Record<string, number>;

export const EPOLLIN: number = c['EPOLLIN']!;
export const EPOLLOUT: number = c['EPOLLOUT']!;
export const EPOLLPRI: number = c['EPOLLPRI']!;
export const EPOLLERR: number = c['EPOLLERR']!;
export const EPOLLHUP: number = c['EPOLLHUP']!;
export const EPOLLRDHUP: number = c['EPOLLRDHUP']!;
export const EPOLLET: number = c['EPOLLET']!;
export const EPOLLONESHOT: number = c['EPOLLONESHOT']!;
export const EPOLLEXCLUSIVE: number = c['EPOLLEXCLUSIVE']!;
export const EPOLLWAKEUP: number = c['EPOLLWAKEUP']!;
export const EPOLLRDNORM: number = c['EPOLLRDNORM']!;
export const EPOLLRDBAND: number = c['EPOLLRDBAND']!;
export const EPOLLWRNORM: number = c['EPOLLWRNORM']!;
export const EPOLLWRBAND: number = c['EPOLLWRBAND']!;
export const EPOLLMSG: number = c['EPOLLMSG']!;
export const EPOLL_CLOEXEC: number = c['EPOLL_CLOEXEC']!;
export const EPOLL_CTL_ADD: number = c['EPOLL_CTL_ADD']!;
export const EPOLL_CTL_MOD: number = c['EPOLL_CTL_MOD']!;
export const EPOLL_CTL_DEL: number = c['EPOLL_CTL_DEL']!;
export const AF_UNSPEC: number = c['AF_UNSPEC']!;
export const AF_INET: number = c['AF_INET']!;
export const AF_INET6: number = c['AF_INET6']!;
export const AF_UNIX: number = c['AF_UNIX']!;
export const SOCK_STREAM: number = c['SOCK_STREAM']!;
export const SOCK_DGRAM: number = c['SOCK_DGRAM']!;
export const SOCK_RAW: number = c['SOCK_RAW']!;
export const SOCK_SEQPACKET: number = c['SOCK_SEQPACKET']!;
export const SOCK_NONBLOCK: number = c['SOCK_NONBLOCK']!;
export const SOCK_CLOEXEC: number = c['SOCK_CLOEXEC']!;
export const SOL_SOCKET: number = c['SOL_SOCKET']!;
export const SO_REUSEADDR: number = c['SO_REUSEADDR']!;
export const SO_REUSEPORT: number = c['SO_REUSEPORT']!;
export const SO_ERROR: number = c['SO_ERROR']!;
export const SO_RCVBUF: number = c['SO_RCVBUF']!;
export const SO_SNDBUF: number = c['SO_SNDBUF']!;
export const SO_KEEPALIVE: number = c['SO_KEEPALIVE']!;
export const SO_LINGER: number = c['SO_LINGER']!;
export const SO_TYPE: number = c['SO_TYPE']!;
export const SO_BROADCAST: number = c['SO_BROADCAST']!;
export const SO_RCVLOWAT: number = c['SO_RCVLOWAT']!;
export const SO_SNDLOWAT: number = c['SO_SNDLOWAT']!;
/** 1 on a socket that listen(2) was called on. */
export const SO_ACCEPTCONN: number = c['SO_ACCEPTCONN']!;
/** A socket's address family (AF_INET, AF_INET6, AF_UNIX). */
export const SO_DOMAIN: number = c['SO_DOMAIN']!;
export const SO_PROTOCOL: number = c['SO_PROTOCOL']!;
export const IPPROTO_IP: number = c['IPPROTO_IP']!;
export const IPPROTO_TCP: number = c['IPPROTO_TCP']!;
export const IPPROTO_UDP: number = c['IPPROTO_UDP']!;
export const IPPROTO_IPV6: number = c['IPPROTO_IPV6']!;
export const TCP_NODELAY: number = c['TCP_NODELAY']!;
export const TCP_DEFER_ACCEPT: number = c['TCP_DEFER_ACCEPT']!;
export const TCP_INFO: number = c['TCP_INFO']!;
export const IPV6_V6ONLY: number = c['IPV6_V6ONLY']!;
export const SHUT_RD: number = c['SHUT_RD']!;
export const SHUT_WR: number = c['SHUT_WR']!;
export const SHUT_RDWR: number = c['SHUT_RDWR']!;
export const MSG_PEEK: number = c['MSG_PEEK']!;
export const MSG_DONTWAIT: number = c['MSG_DONTWAIT']!;
export const MSG_NOSIGNAL: number = c['MSG_NOSIGNAL']!;
export const MSG_WAITALL: number = c['MSG_WAITALL']!;
export const MSG_OOB: number = c['MSG_OOB']!;
export const MSG_TRUNC: number = c['MSG_TRUNC']!;
export const F_GETFL: number = c['F_GETFL']!;
export const F_SETFL: number = c['F_SETFL']!;
export const F_GETFD: number = c['F_GETFD']!;
export const F_SETFD: number = c['F_SETFD']!;
export const O_NONBLOCK: number = c['O_NONBLOCK']!;
export const FD_CLOEXEC: number = c['FD_CLOEXEC']!;
export const INADDR_ANY: number = c['INADDR_ANY']!;
export const SOMAXCONN: number = c['SOMAXCONN']!;
export const EAGAIN: number = c['EAGAIN']!;
export const EWOULDBLOCK: number = c['EWOULDBLOCK']!;
export const EINTR: number = c['EINTR']!;
export const EINPROGRESS: number = c['EINPROGRESS']!;
export const EALREADY: number = c['EALREADY']!;
export const EISCONN: number = c['EISCONN']!;
export const ENOTCONN: number = c['ENOTCONN']!;
export const ECONNRESET: number = c['ECONNRESET']!;
export const ECONNREFUSED: number = c['ECONNREFUSED']!;
export const ECONNABORTED: number = c['ECONNABORTED']!;
export const EPIPE: number = c['EPIPE']!;
export const ETIMEDOUT: number = c['ETIMEDOUT']!;
export const EHOSTUNREACH: number = c['EHOSTUNREACH']!;
export const ENETUNREACH: number = c['ENETUNREACH']!;
export const EADDRINUSE: number = c['EADDRINUSE']!;
export const EADDRNOTAVAIL: number = c['EADDRNOTAVAIL']!;
export const EMFILE: number = c['EMFILE']!;
export const ENFILE: number = c['ENFILE']!;
export const ENOBUFS: number = c['ENOBUFS']!;
export const ENOMEM: number = c['ENOMEM']!;
export const EBADF: number = c['EBADF']!;
export const EEXIST: number = c['EEXIST']!;
export const ENOENT: number = c['ENOENT']!;
export const EPERM: number = c['EPERM']!;
export const EINVAL: number = c['EINVAL']!;
export const ENOTSOCK: number = c['ENOTSOCK']!;
export const EOPNOTSUPP: number = c['EOPNOTSUPP']!;
export const EPROTO: number = c['EPROTO']!;
export const EACCES: number = c['EACCES']!;
export const EFAULT: number = c['EFAULT']!;
export const ELOOP: number = c['ELOOP']!;
export const ENOSPC: number = c['ENOSPC']!;
export const POLLIN: number = c['POLLIN']!;
export const POLLPRI: number = c['POLLPRI']!;
export const POLLOUT: number = c['POLLOUT']!;
export const POLLERR: number = c['POLLERR']!;
export const POLLHUP: number = c['POLLHUP']!;
export const POLLNVAL: number = c['POLLNVAL']!;
export const POLLRDNORM: number = c['POLLRDNORM']!;
export const POLLRDBAND: number = c['POLLRDBAND']!;
export const POLLWRNORM: number = c['POLLWRNORM']!;
export const POLLWRBAND: number = c['POLLWRBAND']!;
export const POLLMSG: number = c['POLLMSG']!;
export const POLLRDHUP: number = c['POLLRDHUP']!;
/** The number of fds a `fd_set` holds (1024): `select()` refuses any fd at or above it, as Python does. */
export const FD_SETSIZE: number = c['FD_SETSIZE']!;
export const F_DUPFD_CLOEXEC: number = c['F_DUPFD_CLOEXEC']!;
/** Size of `struct pollfd` (8): the stride of the array `sys.poll` reads and rewrites. */
export const POLLFD_SIZE: number = c['sizeof_pollfd']!;
/** Size of one word of an `fd_set` (an `unsigned long`, 8): fd sets for `sys.select` are whole words. */
export const FD_MASK_SIZE: number = c['sizeof_fd_mask']!;

// Files: openat2(2), fstat(2), sendfile(2).
export const AT_FDCWD: number = c['AT_FDCWD']!;
export const O_RDONLY: number = c['O_RDONLY']!;
export const O_NOFOLLOW: number = c['O_NOFOLLOW']!;
export const O_CLOEXEC: number = c['O_CLOEXEC']!;
export const O_NOCTTY: number = c['O_NOCTTY']!;
export const O_DIRECTORY: number = c['O_DIRECTORY']!;
export const O_PATH: number = c['O_PATH']!;
export const RESOLVE_BENEATH: number = c['RESOLVE_BENEATH']!;
export const RESOLVE_NO_MAGICLINKS: number = c['RESOLVE_NO_MAGICLINKS']!;
export const RESOLVE_NO_SYMLINKS: number = c['RESOLVE_NO_SYMLINKS']!;
export const RESOLVE_IN_ROOT: number = c['RESOLVE_IN_ROOT']!;
export const S_IFMT: number = c['S_IFMT']!;
export const S_IFREG: number = c['S_IFREG']!;
export const S_IFDIR: number = c['S_IFDIR']!;
export const MSG_MORE: number = c['MSG_MORE']!;
export const TCP_CORK: number = c['TCP_CORK']!;
/** ioctl(2) requests on a socket (linux/sockios.h): bytes unacknowledged, of those unsent, and unread. */
export const SIOCOUTQ: number = c['SIOCOUTQ']!;
export const SIOCOUTQNSD: number = c['SIOCOUTQNSD']!;
export const SIOCINQ: number = c['SIOCINQ']!;
export const ENOTDIR: number = c['ENOTDIR']!;
export const ENAMETOOLONG: number = c['ENAMETOOLONG']!;
export const EXDEV: number = c['EXDEV']!;
export const ENOSYS: number = c['ENOSYS']!;
export const ENXIO: number = c['ENXIO']!;
export const EISDIR: number = c['EISDIR']!;
export const ENODATA: number = c['ENODATA']!;
export const EIO: number = c['EIO']!;
export const O_DIRECT: number = c['O_DIRECT']!;
export const EFD_CLOEXEC: number = c['EFD_CLOEXEC']!;
export const EFD_NONBLOCK: number = c['EFD_NONBLOCK']!;
export const EFD_SEMAPHORE: number = c['EFD_SEMAPHORE']!;
export const TFD_CLOEXEC: number = c['TFD_CLOEXEC']!;
export const TFD_NONBLOCK: number = c['TFD_NONBLOCK']!;
export const TFD_TIMER_ABSTIME: number = c['TFD_TIMER_ABSTIME']!;
export const TFD_TIMER_CANCEL_ON_SET: number = c['TFD_TIMER_CANCEL_ON_SET']!;
export const CLOCK_REALTIME: number = c['CLOCK_REALTIME']!;
export const CLOCK_MONOTONIC: number = c['CLOCK_MONOTONIC']!;
export const CLOCK_BOOTTIME: number = c['CLOCK_BOOTTIME']!;
export const CLOCK_REALTIME_ALARM: number = c['CLOCK_REALTIME_ALARM']!;
export const CLOCK_BOOTTIME_ALARM: number = c['CLOCK_BOOTTIME_ALARM']!;
export const ECANCELED: number = c['ECANCELED']!;
export const EMSGSIZE: number = c['EMSGSIZE']!;
export const EDESTADDRREQ: number = c['EDESTADDRREQ']!;
export const ENOTTY: number = c['ENOTTY']!;
export const GPIO_V2_LINE_FLAG_ACTIVE_LOW: number = c['GPIO_V2_LINE_FLAG_ACTIVE_LOW']!;
export const GPIO_V2_LINE_FLAG_INPUT: number = c['GPIO_V2_LINE_FLAG_INPUT']!;
export const GPIO_V2_LINE_FLAG_EDGE_RISING: number = c['GPIO_V2_LINE_FLAG_EDGE_RISING']!;
export const GPIO_V2_LINE_FLAG_EDGE_FALLING: number = c['GPIO_V2_LINE_FLAG_EDGE_FALLING']!;
export const GPIO_V2_LINE_FLAG_BIAS_PULL_UP: number = c['GPIO_V2_LINE_FLAG_BIAS_PULL_UP']!;
export const GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN: number = c['GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN']!;
export const GPIO_V2_LINE_FLAG_BIAS_DISABLED: number = c['GPIO_V2_LINE_FLAG_BIAS_DISABLED']!;
export const GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME: number = c['GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME']!;
export const GPIO_V2_LINE_EVENT_RISING_EDGE: number = c['GPIO_V2_LINE_EVENT_RISING_EDGE']!;
export const GPIO_V2_LINE_EVENT_FALLING_EDGE: number = c['GPIO_V2_LINE_EVENT_FALLING_EDGE']!;

/** Size of `struct sockaddr_storage`: room for any socket address. */
export const SOCKADDR_STORAGE_SIZE: number = c['sizeof_sockaddr_storage']!;
/** Size of `struct sockaddr_un`. */
export const SOCKADDR_UN_SIZE: number = c['sizeof_sockaddr_un']!;
/** Size of `struct gpio_v2_line_event`: one edge event read from a GPIO line fd. */
export const GPIO_V2_LINE_EVENT_SIZE: number = c['sizeof_gpio_v2_line_event']!;
