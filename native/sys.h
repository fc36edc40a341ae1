/* The hot-path syscalls, entered through syscall(2) (why: below). */
#ifndef ETLT_SYS_H
#define ETLT_SYS_H

#include <unistd.h>

/*
 * The hot-path calls enter the kernel through syscall(2). libc's own wrappers for them are
 * pthread cancellation points: in a multi-threaded process (Node always is) each call
 * switches asynchronous cancellation on and off around the syscall, for a feature nothing
 * here uses. Same syscall, same arguments, same -1/errno result.
 */
#include <sys/syscall.h>
#ifdef SYS_accept4
#define sys_accept4(fd, sa, len, flags) syscall(SYS_accept4, (fd), (sa), (len), (flags))
#else
#define sys_accept4 accept4
#endif
#ifdef SYS_epoll_wait
#define sys_epoll_wait(epfd, evs, max, timeout) syscall(SYS_epoll_wait, (epfd), (evs), (max), (timeout))
#else
#define sys_epoll_wait epoll_wait
#endif
#define sys_recv(fd, p, n, flags) syscall(SYS_recvfrom, (fd), (p), (n), (flags), NULL, NULL)
#define sys_send(fd, p, n, flags) syscall(SYS_sendto, (fd), (p), (n), (flags), NULL, 0)
#ifdef SYS_sendmsg
#define sys_sendmsg(fd, msg, flags) syscall(SYS_sendmsg, (fd), (msg), (flags))
#else
#define sys_sendmsg sendmsg
#endif
#define sys_close(fd) syscall(SYS_close, (fd))

#endif
