/*
 * cserver: the benchmark baseline. A small, correct epoll edge-triggered
 * HTTP/1.0 server that answers every request with the seed's exact bytes and
 * closes the connection. It is the practical limit the TypeScript server is
 * measured against: one thread, one epoll, no allocation on the common path.
 *
 *   cc -O2 -o bench/out/cserver bench/cserver.c
 *   bench/out/cserver PORT            (listens on 127.0.0.1:PORT)
 *   bench/out/cserver PORT defer      (the same with TCP_DEFER_ACCEPT, 1 s, on the listener:
 *                                      the like-for-like baseline for etlt's default)
 *
 * SIGINT and SIGTERM end it cleanly (exit status 0).
 */
#define _GNU_SOURCE
#include "cserver-common.h"

static const char RESPONSE[] =
    "HTTP/1.0 200 OK\r\n"
    "Date: Mon, 1 Jan 1996 01:01:01 GMT\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 13\r\n"
    "\r\n"
    "Hello, world!";
#define RESPONSE_LEN (sizeof(RESPONSE) - 1)

/* A request head larger than this is refused by closing the connection. */
#define HEAD_MAX 8192
#define MAX_EVENTS 512

/*
 * Per-connection state exists only for the rare connection whose request head
 * did not arrive in one go, or whose response did not fit the socket buffer.
 * The common case (whole request in the first readable event, response sent
 * in one send) touches no heap at all.
 */
struct conn {
    int writing;        /* 0: collecting the head; 1: sending the response */
    size_t len;         /* head bytes collected, or response bytes sent */
    char buf[HEAD_MAX];
};

static struct conn **conns;
static size_t conns_cap;
static struct conn *conn_get(int fd) {
    return (size_t)fd < conns_cap ? conns[fd] : NULL;
}

static struct conn *conn_new(int fd) {
    if ((size_t)fd >= conns_cap) {
        size_t cap = conns_cap ? conns_cap : 1024;
        while (cap <= (size_t)fd) cap *= 2;
        struct conn **p = realloc(conns, cap * sizeof *p);
        if (!p) return NULL;
        memset(p + conns_cap, 0, (cap - conns_cap) * sizeof *p);
        conns = p;
        conns_cap = cap;
    }
    struct conn *c = calloc(1, sizeof *c);
    conns[fd] = c;
    return c;
}

/* close() also removes the fd from the epoll set: no fd is ever dup'ed here. */
static void conn_close(int fd) {
    struct conn *c = conn_get(fd);
    if (c) { free(c); conns[fd] = NULL; }
    close(fd);
}

/* The head ends at the first "\n\n" or "\n\r\n", as in the seed. Only the new
 * bytes and the two before them can complete it. */
static int head_complete(const char *buf, size_t old_len, size_t len) {
    size_t i = old_len > 2 ? old_len - 2 : 0;
    for (; i + 1 < len; i++) {
        if (buf[i] != '\n') continue;
        if (buf[i + 1] == '\n') return 1;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n') return 1;
    }
    return 0;
}

/* Send the response from offset `sent`; closes when done or on error. When the
 * socket buffer is full (never seen for 114 bytes, but possible), keep the
 * offset and ask for EPOLLOUT once. */
static void send_response(int fd, size_t sent) {
    while (sent < RESPONSE_LEN) {
        ssize_t n = send(fd, RESPONSE + sent, RESPONSE_LEN - sent, MSG_NOSIGNAL);
        if (n > 0) { sent += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            struct conn *c = conn_get(fd);
            if (!c && !(c = conn_new(fd))) break;
            c->writing = 1;
            c->len = sent;
            struct epoll_event ev = { .events = EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.fd = fd };
            if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) < 0) break;
            return;
        }
        break; /* EPIPE, ECONNRESET, ...: the peer is gone */
    }
    conn_close(fd);
}

/* Edge-triggered: read until EAGAIN, or the edge is lost. */
static void on_readable(int fd) {
    struct conn *c = conn_get(fd);
    char local[HEAD_MAX];
    char *buf = c ? c->buf : local;
    size_t len = c ? c->len : 0;
    for (;;) {
        if (len == HEAD_MAX) { conn_close(fd); return; }
        ssize_t n = recv(fd, buf + len, HEAD_MAX - len, 0);
        if (n > 0) {
            size_t old = len;
            len += (size_t)n;
            if (head_complete(buf, old, len)) { send_response(fd, 0); return; }
            continue;
        }
        if (n == 0) { conn_close(fd); return; } /* EOF before a whole head */
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
            if (!c) {
                if (!(c = conn_new(fd))) { conn_close(fd); return; }
                memcpy(c->buf, local, len);
            }
            c->len = len;
            return;
        }
        conn_close(fd); /* ECONNRESET and friends */
        return;
    }
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "defer") != 0)) {
        fprintf(stderr, "usage: %s PORT [defer]\n", argv[0]);
        return 2;
    }
    int port = parse_port("cserver", argv[1]);
    sigset_t waitmask;
    start_up(&waitmask);
    int lfd = listen_loopback(port, argc == 3, EPOLLIN | EPOLLET);
    int spare = open("/dev/null", O_RDONLY | O_CLOEXEC);

    struct epoll_event events[MAX_EVENTS];
    while (!stop_requested) {
        int n = epoll_pwait(epfd, events, MAX_EVENTS, -1, &waitmask);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_pwait");
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            uint32_t ev = events[i].events;
            if (fd == lfd) { accept_all(lfd, &spare, EPOLLIN | EPOLLRDHUP | EPOLLET); continue; }
            struct conn *c = conn_get(fd);
            if (c && c->writing) {
                if (ev & (EPOLLERR | EPOLLHUP)) conn_close(fd);
                else if (ev & EPOLLOUT) send_response(fd, c->len);
                continue;
            }
            /* EPOLLIN and EPOLLRDHUP both mean "recv will not block": a final
             * request may sit in front of the FIN, so read before judging. */
            if (ev & (EPOLLIN | EPOLLRDHUP)) on_readable(fd);
            else if (ev & (EPOLLERR | EPOLLHUP)) conn_close(fd);
        }
    }

    for (size_t fd = 0; fd < conns_cap; fd++)
        if (conns[fd]) conn_close((int)fd);
    free(conns);
    close(epfd);
    close(lfd);
    if (spare >= 0) close(spare);
    return 0;
}
