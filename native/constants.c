/* ---- constants, with Linux's values from the system headers ---- */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>

#include "etlt.h"

static void set_const(napi_env env, napi_value obj, const char *name, int64_t v) {
  napi_value n;
  /* Masks such as EPOLLET (1u << 31) are exported unsigned, as Linux defines them. */
  napi_create_int64(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

#define C(x) set_const(env, consts, #x, (int64_t)(x))
#define CU(x) set_const(env, consts, #x, (int64_t)(uint32_t)(x))

napi_value make_constants(napi_env env) {
  napi_value consts;
  napi_create_object(env, &consts);
  /* clang-format off */
  CU(EPOLLIN); CU(EPOLLOUT); CU(EPOLLPRI); CU(EPOLLERR); CU(EPOLLHUP); CU(EPOLLRDHUP);
  CU(EPOLLET); CU(EPOLLONESHOT); CU(EPOLLEXCLUSIVE); CU(EPOLLWAKEUP); CU(EPOLLRDNORM);
  CU(EPOLLRDBAND); CU(EPOLLWRNORM); CU(EPOLLWRBAND); CU(EPOLLMSG);
  C(EPOLL_CLOEXEC); C(EPOLL_CTL_ADD); C(EPOLL_CTL_MOD); C(EPOLL_CTL_DEL);
  C(AF_UNSPEC); C(AF_INET); C(AF_INET6); C(AF_UNIX);
  C(SOCK_STREAM); C(SOCK_DGRAM); C(SOCK_RAW); C(SOCK_SEQPACKET); C(SOCK_NONBLOCK); C(SOCK_CLOEXEC);
  C(SOL_SOCKET); C(SO_REUSEADDR); C(SO_REUSEPORT); C(SO_ERROR); C(SO_RCVBUF); C(SO_SNDBUF);
  C(SO_KEEPALIVE); C(SO_LINGER); C(SO_TYPE); C(SO_BROADCAST); C(SO_RCVLOWAT); C(SO_SNDLOWAT);
  C(SO_ACCEPTCONN); C(SO_DOMAIN); C(SO_PROTOCOL);
  C(IPPROTO_IP); C(IPPROTO_TCP); C(IPPROTO_UDP); C(IPPROTO_IPV6);
  C(TCP_NODELAY); C(TCP_DEFER_ACCEPT); C(TCP_INFO); C(IPV6_V6ONLY);
  C(SHUT_RD); C(SHUT_WR); C(SHUT_RDWR);
  C(MSG_PEEK); C(MSG_DONTWAIT); C(MSG_NOSIGNAL); C(MSG_WAITALL); C(MSG_OOB); C(MSG_TRUNC);
  C(F_GETFL); C(F_SETFL); C(F_GETFD); C(F_SETFD); C(O_NONBLOCK); C(FD_CLOEXEC);
  C(INADDR_ANY); C(SOMAXCONN);
  C(EAGAIN); C(EWOULDBLOCK); C(EINTR); C(EINPROGRESS); C(EALREADY); C(EISCONN); C(ENOTCONN);
  C(ECONNRESET); C(ECONNREFUSED); C(ECONNABORTED); C(EPIPE); C(ETIMEDOUT); C(EHOSTUNREACH);
  C(ENETUNREACH); C(EADDRINUSE); C(EADDRNOTAVAIL); C(EMFILE); C(ENFILE); C(ENOBUFS); C(ENOMEM);
  C(EBADF); C(EEXIST); C(ENOENT); C(EPERM); C(EINVAL); C(ENOTSOCK); C(EOPNOTSUPP); C(EPROTO);
  C(EACCES); C(EFAULT); C(ELOOP); C(ENOSPC);
  C(POLLIN); C(POLLPRI); C(POLLOUT); C(POLLERR); C(POLLHUP); C(POLLNVAL); C(POLLRDNORM);
  C(POLLRDBAND); C(POLLWRNORM); C(POLLWRBAND); C(POLLMSG); C(POLLRDHUP); C(FD_SETSIZE); C(F_DUPFD_CLOEXEC);
  /* files: openat2, fstat, sendfile */
  C(AT_FDCWD); C(O_RDONLY); C(O_NOFOLLOW); C(O_CLOEXEC); C(O_NOCTTY); C(O_DIRECTORY); C(O_PATH);
  C(RESOLVE_BENEATH); C(RESOLVE_NO_MAGICLINKS); C(RESOLVE_NO_SYMLINKS); C(RESOLVE_IN_ROOT);
  C(S_IFMT); C(S_IFREG); C(S_IFDIR); C(MSG_MORE); C(TCP_CORK);
  C(SIOCOUTQ); C(SIOCOUTQNSD); C(SIOCINQ);
  C(ENOTDIR); C(ENAMETOOLONG); C(EXDEV); C(ENOSYS); C(ENXIO); C(EISDIR); C(ENODATA); C(EIO);
  /* os: pipe2, eventfd, timerfd */
  C(O_DIRECT); C(EFD_CLOEXEC); C(EFD_NONBLOCK); C(EFD_SEMAPHORE);
  C(TFD_CLOEXEC); C(TFD_NONBLOCK); C(TFD_TIMER_ABSTIME); C(TFD_TIMER_CANCEL_ON_SET);
  C(CLOCK_REALTIME); C(CLOCK_MONOTONIC); C(CLOCK_BOOTTIME); C(CLOCK_REALTIME_ALARM); C(CLOCK_BOOTTIME_ALARM);
  C(ECANCELED); C(EMSGSIZE); C(EDESTADDRREQ); C(ENOTTY);
  /* the GPIO character device (gpio.c) */
  C(GPIO_V2_LINE_FLAG_ACTIVE_LOW); C(GPIO_V2_LINE_FLAG_INPUT); C(GPIO_V2_LINE_FLAG_EDGE_RISING);
  C(GPIO_V2_LINE_FLAG_EDGE_FALLING); C(GPIO_V2_LINE_FLAG_BIAS_PULL_UP); C(GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN);
  C(GPIO_V2_LINE_FLAG_BIAS_DISABLED); C(GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME);
  C(GPIO_V2_LINE_EVENT_RISING_EDGE); C(GPIO_V2_LINE_EVENT_FALLING_EDGE);
  /* io_uring (linux/io_uring.h), its eventfd and its mappings */
  CU(IORING_SETUP_SQPOLL); CU(IORING_SETUP_CQSIZE); CU(IORING_SETUP_CLAMP); CU(IORING_SETUP_SUBMIT_ALL);
  CU(IORING_SETUP_COOP_TASKRUN); CU(IORING_SETUP_TASKRUN_FLAG); CU(IORING_SETUP_SINGLE_ISSUER);
  CU(IORING_SETUP_DEFER_TASKRUN);
  CU(IORING_FEAT_SINGLE_MMAP); CU(IORING_FEAT_NODROP); CU(IORING_FEAT_FAST_POLL);
  C(IORING_OFF_SQ_RING); C(IORING_OFF_CQ_RING); C(IORING_OFF_SQES);
  CU(IORING_ENTER_GETEVENTS); CU(IORING_ENTER_SQ_WAKEUP); CU(IORING_ENTER_SQ_WAIT);
  CU(IORING_SQ_NEED_WAKEUP); CU(IORING_SQ_CQ_OVERFLOW); CU(IORING_SQ_TASKRUN); CU(IORING_CQ_EVENTFD_DISABLED);
  C(IORING_REGISTER_EVENTFD); C(IORING_UNREGISTER_EVENTFD); C(IORING_REGISTER_PBUF_RING);
  C(IORING_UNREGISTER_PBUF_RING);
  C(IORING_OP_NOP); C(IORING_OP_ACCEPT); C(IORING_OP_RECV); C(IORING_OP_SEND); C(IORING_OP_SENDMSG);
  C(IORING_OP_POLL_ADD); C(IORING_OP_ASYNC_CANCEL); C(IORING_OP_CLOSE); C(IORING_OP_TIMEOUT);
  C(IORING_OP_SHUTDOWN);
  CU(IOSQE_IO_LINK); CU(IOSQE_IO_HARDLINK); CU(IOSQE_ASYNC); CU(IOSQE_BUFFER_SELECT); CU(IOSQE_CQE_SKIP_SUCCESS);
  CU(IORING_RECV_MULTISHOT); CU(IORING_ACCEPT_MULTISHOT); CU(IORING_RECVSEND_POLL_FIRST);
  CU(IORING_CQE_F_BUFFER); CU(IORING_CQE_F_MORE); CU(IORING_CQE_F_SOCK_NONEMPTY); C(IORING_CQE_BUFFER_SHIFT);
  CU(IORING_ASYNC_CANCEL_ALL); CU(IORING_ASYNC_CANCEL_FD);
  C(PROT_READ); C(PROT_WRITE); C(MAP_SHARED); C(MAP_PRIVATE);
  C(MAP_ANONYMOUS); C(MAP_POPULATE); C(EBUSY); C(ETIME);
  /* clang-format on */
  set_const(env, consts, "sizeof_io_uring_params", sizeof(struct io_uring_params));
  set_const(env, consts, "sizeof_io_uring_sqe", sizeof(struct io_uring_sqe));
  set_const(env, consts, "sizeof_io_uring_cqe", sizeof(struct io_uring_cqe));
  set_const(env, consts, "sizeof_sockaddr_storage", sizeof(struct sockaddr_storage));
  set_const(env, consts, "sizeof_sockaddr_un", sizeof(struct sockaddr_un));
  set_const(env, consts, "sizeof_pollfd", sizeof(struct pollfd));
  set_const(env, consts, "sizeof_fd_mask", sizeof(unsigned long));
  set_const(env, consts, "sizeof_gpio_v2_line_event", sizeof(struct gpio_v2_line_event));
  return consts;
}
