/*
 * What the two C baselines (cserver.c, cserver-keepalive.c) share: start-up (the port
 * argument, the fd limit, stop signals that only interrupt the wait, a loopback listener)
 * and the accept loop with its spare fd. Header-only, so each builds with one `cc` line.
 */
#ifndef CSERVER_COMMON_H
#define CSERVER_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static int epfd = -1;
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) { (void)sig; stop_requested = 1; }

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* The port argument, 0 to 65535, or exit 2 naming `name`. */
static int parse_port(const char *name, const char *arg) {
    char *end;
    long port = strtol(arg, &end, 10);
    if (*end || port < 0 || port > 65535) {
        fprintf(stderr, "%s: bad port '%s'\n", name, arg);
        exit(2);
    }
    return (int)port;
}

/* Start-up: the soft fd limit raised to the hard one; SIGINT/SIGTERM blocked except inside
 * epoll_pwait (with `waitmask`), so a signal can never slip in between the flag check and
 * the wait; SIGPIPE ignored. */
static void start_up(sigset_t *waitmask) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, waitmask);
    sigdelset(waitmask, SIGINT);
    sigdelset(waitmask, SIGTERM);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* A non-blocking listener on 127.0.0.1:port (backlog 4096), TCP_DEFER_ACCEPT if `defer`,
 * registered in a new epoll set (`epfd`) with `events`. */
static int listen_loopback(int port, int defer, uint32_t events) {
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (defer && setsockopt(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof one) < 0) die("TCP_DEFER_ACCEPT");
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
    if (listen(lfd, 4096) < 0) die("listen");
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) die("epoll_create1");
    struct epoll_event lev = {.events = events, .data.fd = lfd};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) < 0) die("epoll_ctl");
    return lfd;
}

/*
 * Accept until EAGAIN, registering each connection with `events`: one edge may stand for
 * many connections. On EMFILE the pending connection would stay in the queue (no new edge
 * to announce it; a level-triggered listener would spin), so a spare fd is given up to
 * accept it and close it at once.
 */
static void accept_all(int lfd, int *spare, uint32_t events) {
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            struct epoll_event ev = {.events = events, .data.fd = fd};
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) close(fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if ((errno == EMFILE || errno == ENFILE) && *spare >= 0) {
            close(*spare);
            fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) close(fd);
            *spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
            continue;
        }
        return; /* EAGAIN, or an error that a later event may clear */
    }
}

#endif
