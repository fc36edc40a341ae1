/*
 * cserver-keepalive: the baseline of the persistent-connection suites. A small,
 * correct epoll level-triggered HTTP/1.1 server that keeps every connection
 * open and answers every complete request head ("\r\n\r\n"-terminated; bodies
 * are not supported) with "Hello, world!". All the responses to the requests
 * found in one read leave in one send, so a pipelining client (wrk with 16
 * requests per write) costs one recv and one send per batch: the practical
 * limit the TypeScript server is measured against. One thread, one epoll;
 * level-triggered because a persistent connection read once per event needs
 * no recv to learn EAGAIN, which edge-triggered draining would spend on every
 * request (bench/cserver.c, one request per connection, is edge-triggered).
 *
 *   cc -O2 -o bench/out/cserver-keepalive bench/cserver-keepalive.c
 *   bench/out/cserver-keepalive PORT     (listens on 127.0.0.1:PORT)
 *
 * It closes a connection on EOF, on an error, or when a request head grows
 * past HEAD_MAX. SIGINT and SIGTERM end it cleanly (exit status 0).
 */
#define _GNU_SOURCE
#include <time.h>

#include "cserver-common.h"

#define HEAD_MAX 8192
#define READ_MAX 65536
#define MAX_EVENTS 512

/*
 * Per-connection state exists only while a connection has a partial request
 * head carried over to its next read, or responses the socket buffer did not
 * take: an idle connection, or one whose reads end on a request boundary,
 * costs no heap at all (the idle suite measures exactly that).
 */
struct conn {
    size_t in_len;              /* bytes of a partial head, in `in` */
    char *out;                  /* responses not sent yet */
    size_t out_len, out_off;
    char in[HEAD_MAX];
};

static struct conn **conns;
static size_t conns_cap;

/* What one read can hold: a carried partial head, then up to READ_MAX new bytes. */
static char rbuf[HEAD_MAX + READ_MAX];
static char *wbuf;
static size_t wbuf_cap;

/* The response, its Date header rewritten once a second (as nginx does). */
static char response[256];
static size_t response_len;
static time_t response_time = -1;

static void update_response(void) {
    time_t now = time(NULL);
    if (now == response_time) return;
    response_time = now;
    struct tm tm;
    gmtime_r(&now, &tm);
    char date[64];
    /* No setlocale(): the C locale's English day and month names, as HTTP wants. */
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    response_len = (size_t)snprintf(response, sizeof response,
        "HTTP/1.1 200 OK\r\n"
        "Content-Length: 13\r\n"
        "Content-Type: text/plain\r\n"
        "Date: %s\r\n"
        "\r\n"
        "Hello, world!", date);
}

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

static void conn_free(int fd) {
    struct conn *c = conn_get(fd);
    if (!c) return;
    free(c->out);
    free(c);
    conns[fd] = NULL;
}

/* close() also removes the fd from the epoll set: no fd is ever dup'ed here. */
static void conn_close(int fd) {
    conn_free(fd);
    close(fd);
}

/* Sends buf[0..len); returns how much went out, or -1 when the peer is gone. */
static ssize_t send_all(int fd, const char *buf, size_t len) {
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, buf + sent, len - sent, MSG_NOSIGNAL);
        if (n > 0) { sent += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        return -1; /* EPIPE, ECONNRESET, ...: the peer is gone */
    }
    return (ssize_t)sent;
}

/* Pending responses first: they must leave before any later one. Returns 1
 * when none is left, 0 when the socket is full again, -1 on error. */
static int flush(int fd, struct conn *c) {
    ssize_t n = send_all(fd, c->out + c->out_off, c->out_len - c->out_off);
    if (n < 0) return -1;
    c->out_off += (size_t)n;
    if (c->out_off < c->out_len) return 0;
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    return 1;
}

/* `count` responses back to back, in one buffer for one send. */
static const char *responses(size_t count, size_t *len) {
    size_t need = count * response_len;
    if (need > wbuf_cap) {
        char *p = realloc(wbuf, need);
        if (!p) return NULL;
        wbuf = p;
        wbuf_cap = need;
    }
    for (size_t i = 0; i < count; i++) memcpy(wbuf + i * response_len, response, response_len);
    *len = need;
    return wbuf;
}

/* Interest in `events` (level-triggered): EPOLLIN while reading, EPOLLOUT
 * alone while responses wait for room (reading then would only pile up more). */
static int want(int fd, uint32_t events) {
    struct epoll_event ev = { .events = events, .data.fd = fd };
    return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

/*
 * Every event on a connection comes here. Level-triggered, so one recv per
 * event is enough: whatever it leaves in the socket is reported again by the
 * next epoll_pwait, and no recv is spent on learning EAGAIN. The complete
 * requests of the read are answered with one send; a partial head is carried
 * to the next read.
 */
static void serve(int fd) {
    struct conn *c = conn_get(fd);
    if (c && c->out) {
        int r = flush(fd, c);
        if (r < 0 || (r == 1 && want(fd, EPOLLIN) < 0)) { conn_close(fd); return; }
        if (r == 1 && !c->in_len) conn_free(fd);
        return;
    }
    size_t carried = c ? c->in_len : 0;
    if (carried) memcpy(rbuf, c->in, carried);
    ssize_t n = recv(fd, rbuf + carried, READ_MAX, 0);
    if (n == 0) { conn_close(fd); return; } /* EOF: every answer has been sent */
    if (n < 0) {
        if (errno != EINTR && errno != EAGAIN) conn_close(fd); /* ECONNRESET and friends */
        return;
    }
    size_t len = carried + (size_t)n, done = 0, count = 0;
    for (;;) {
        const char *end = memmem(rbuf + done, len - done, "\r\n\r\n", 4);
        if (!end) break;
        done = (size_t)(end - rbuf) + 4;
        count++;
    }
    size_t left = len - done;
    if (left > HEAD_MAX) { conn_close(fd); return; } /* a head too large */
    if (left > 0) {
        if (!c && !(c = conn_new(fd))) { conn_close(fd); return; }
        memcpy(c->in, rbuf + done, left);
    }
    if (c) c->in_len = left;
    if (count > 0) {
        size_t out_len;
        const char *out = responses(count, &out_len);
        if (!out) { conn_close(fd); return; }
        ssize_t sent = send_all(fd, out, out_len);
        if (sent < 0) { conn_close(fd); return; }
        if ((size_t)sent < out_len) {
            if (!c && !(c = conn_new(fd))) { conn_close(fd); return; }
            c->out_len = out_len - (size_t)sent;
            c->out_off = 0;
            if (!(c->out = malloc(c->out_len))) { conn_close(fd); return; }
            memcpy(c->out, out + sent, c->out_len);
            if (want(fd, EPOLLOUT) < 0) conn_close(fd);
            return;
        }
    }
    if (c && !c->in_len) conn_free(fd);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    int port = parse_port("cserver-keepalive", argv[1]);
    sigset_t waitmask;
    start_up(&waitmask);
    int lfd = listen_loopback(port, 0, EPOLLIN);
    int spare = open("/dev/null", O_RDONLY | O_CLOEXEC);

    struct epoll_event events[MAX_EVENTS];
    while (!stop_requested) {
        int n = epoll_pwait(epfd, events, MAX_EVENTS, -1, &waitmask);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_pwait");
        }
        update_response();
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd) accept_all(lfd, &spare, EPOLLIN);
            else serve(fd); /* EPOLLERR/EPOLLHUP too: recv or send reports the error */
        }
    }

    /* Connections without state need nothing but the close that exit does. */
    for (size_t fd = 0; fd < conns_cap; fd++)
        if (conns[fd]) conn_close((int)fd);
    free(conns);
    free(wbuf);
    close(epfd);
    close(lfd);
    if (spare >= 0) close(spare);
    return 0;
}
