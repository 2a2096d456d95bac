// cfloor is the floor the Go servers of scripts/bench.sh are measured
// against: cmd/evserver's HTTP/1.1 "hello" server (bench/internal/proto,
// byte for byte) written in C with the least work the kernel allows. Each
// thread has its own SO_REUSEPORT listener and epoll instance and shares
// nothing; connections are edge-triggered, read once per event (a short
// read means the queue is empty), answered with one send per batch of
// responses (MSG_NOSIGNAL, so a gone client is an EPIPE, not a signal), and
// closed without a separate EPOLL_CTL_DEL. It prints "listening on ADDR"
// once every thread's listener is bound. SIGTERM or SIGINT ends it.
//
//	cc -O2 -pthread -o cfloor cfloor.c
//	./cfloor -addr 127.0.0.1:0 -threads 2
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
	readSize = 64 << 10,      // bytes per read, as evserver's
	maxHeaderBytes = 8 << 10, // a request head must end within this
	maxEvents = 256,
};

#define RESPONSE(status, body, headers)                                     \
	"HTTP/1.1 " status "\r\nContent-Type: text/plain\r\nContent-Length: " \
	    "%zu\r\n" headers "\r\n" body

// Responses are formatted once at start, Content-Length filled in.
static struct {
	char *p;
	size_t n;
} okResp, okClose, badRequest, notAllowed, bodyRefused, headTooLarge;

static void mkresp(const char *fmt, const char *body, typeof(okResp) *r) {
	int n = asprintf(&r->p, fmt, strlen(body), body);
	if (n < 0) {
		perror("asprintf");
		exit(1);
	}
	r->n = (size_t)n;
}

struct conn {
	int fd;
	int closing, waiting;
	char *in, *out; // malloc'ed only while a request or its answer is incomplete
	size_t inlen, outlen;
};

struct loop {
	int epfd, listener;
	char buf[readSize];
	char *out;
	size_t outlen, outcap;
};

static char listenerMark; // the listener's epoll data, told apart from a conn

static void die(const char *what) {
	perror(what);
	exit(1);
}

static void outAppend(struct loop *l, const char *p, size_t n) {
	if (l->outlen + n > l->outcap) {
		l->outcap = 2 * (l->outlen + n);
		if (!(l->out = realloc(l->out, l->outcap)))
			die("realloc");
	}
	memcpy(l->out + l->outlen, p, n);
	l->outlen += n;
}

static int eqfold(const char *p, size_t n, const char *s) {
	return strlen(s) == n && strncasecmp(p, s, n) == 0;
}

static int isSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// answer is proto's answer: the response to a request head (without the
// blank line) and whether the connection stays open.
static typeof(okResp) *answer(const char *h, size_t n, int *keepAlive) {
	*keepAlive = 0;
	const char *end = h + n;
	const char *eol = memmem(h, n, "\r\n", 2);
	const char *lineEnd = eol ? eol : end;
	const char *sp1 = memchr(h, ' ', (size_t)(lineEnd - h));
	if (!sp1)
		return &badRequest;
	const char *target = sp1 + 1;
	const char *sp2 = memchr(target, ' ', (size_t)(lineEnd - target));
	if (!sp2 || sp2 == target)
		return &badRequest;
	const char *proto = sp2 + 1;
	size_t protoLen = (size_t)(lineEnd - proto);
	int http11 = protoLen == 8 && memcmp(proto, "HTTP/1.1", 8) == 0;
	if (!http11 && !(protoLen == 8 && memcmp(proto, "HTTP/1.0", 8) == 0))
		return &badRequest;
	if (sp1 - h != 3 || memcmp(h, "GET", 3) != 0)
		return &notAllowed;
	int keep = http11;
	const char *p = eol ? eol + 2 : end;
	while (p < end) {
		const char *e = memmem(p, (size_t)(end - p), "\r\n", 2);
		const char *le = e ? e : end;
		const char *colon = memchr(p, ':', (size_t)(le - p));
		if (!colon)
			return &badRequest;
		const char *v = colon + 1, *ve = le;
		while (v < ve && isSpace(*v))
			v++;
		while (ve > v && isSpace(ve[-1]))
			ve--;
		size_t nameLen = (size_t)(colon - p), vlen = (size_t)(ve - v);
		if (eqfold(p, nameLen, "Transfer-Encoding") ||
		    (eqfold(p, nameLen, "Content-Length") && !(vlen == 1 && *v == '0')))
			return &bodyRefused;
		if (eqfold(p, nameLen, "Connection")) {
			for (const char *o = v; o <= ve;) {
				const char *c = memchr(o, ',', (size_t)(ve - o));
				const char *oe = c ? c : ve, *os = o;
				while (os < oe && isSpace(*os))
					os++;
				while (oe > os && isSpace(oe[-1]))
					oe--;
				if (eqfold(os, (size_t)(oe - os), "close"))
					keep = 0;
				if (!c)
					break;
				o = c + 1;
			}
		}
		p = e ? e + 2 : end;
	}
	*keepAlive = keep;
	return keep ? &okResp : &okClose;
}

// answerAll appends a response to l->out for each complete request in
// in[:n], and returns how many bytes of an incomplete request are left at
// its end; *closing says whether to close after writing.
static size_t answerAll(struct loop *l, const char *in, size_t n, int *closing) {
	*closing = 0;
	while (!*closing) {
		const char *end = memmem(in, n, "\r\n\r\n", 4);
		if (!end) {
			if (n > maxHeaderBytes) {
				outAppend(l, headTooLarge.p, headTooLarge.n);
				*closing = 1;
			}
			break;
		}
		int keep;
		typeof(okResp) *r = answer(in, (size_t)(end - in), &keep);
		outAppend(l, r->p, r->n);
		*closing = !keep;
		n -= (size_t)(end + 4 - in);
		in = end + 4;
	}
	return n;
}

static void closeConn(struct conn *c) {
	close(c->fd); // the last descriptor of the file: epoll drops it itself
	free(c->in);
	free(c->out);
	free(c);
}

static void rearm(struct loop *l, struct conn *c, uint32_t events) {
	struct epoll_event ev = {.events = events | EPOLLET, .data.ptr = c};
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		die("epoll_ctl MOD");
}

// writeConn sends out[:n] with one send, keeping in c->out what the socket
// has no room for, and reports whether c is open with nothing left to write.
static int writeConn(struct loop *l, struct conn *c, const char *out, size_t n) {
	while (n > 0) {
		ssize_t w = send(c->fd, out, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			if (!(c->out = realloc(c->out, c->outlen + n)))
				die("realloc");
			memcpy(c->out + c->outlen, out, n);
			c->outlen += n;
			if (!c->waiting) {
				c->waiting = 1;
				rearm(l, c, EPOLLOUT);
			}
			return 0;
		}
		if (w < 0) { // EPIPE, ECONNRESET: the client is gone
			closeConn(c);
			return 0;
		}
		out += w;
		n -= (size_t)w;
	}
	if (c->closing) {
		closeConn(c);
		return 0;
	}
	return 1;
}

static void flushConn(struct loop *l, struct conn *c) {
	char *out = c->out;
	size_t n = c->outlen;
	c->out = NULL;
	c->outlen = 0;
	int waiting = c->waiting;
	int open = writeConn(l, c, out, n);
	free(out);
	if (open && waiting) {
		c->waiting = 0;
		rearm(l, c, EPOLLIN | EPOLLRDHUP);
	}
}

// readConn serves one readiness event, with one read unless the read
// filled the buffer or the peer also shut down its side.
static void readConn(struct loop *l, struct conn *c, int readClosed) {
	for (;;) {
		ssize_t n = read(c->fd, l->buf, readSize);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			closeConn(c);
			return;
		}
		if (n == 0) { // the client is done sending: answer, then close
			c->closing = 1;
			flushConn(l, c);
			return;
		}
		const char *data = l->buf;
		size_t len = (size_t)n;
		if (c->inlen > 0) {
			if (!(c->in = realloc(c->in, c->inlen + len)))
				die("realloc");
			memcpy(c->in + c->inlen, l->buf, len);
			data = c->in;
			len += c->inlen;
		}
		l->outlen = 0;
		size_t rest = answerAll(l, data, len, &c->closing);
		if (rest == 0) {
			free(c->in);
			c->in = NULL;
		} else if (data == l->buf) {
			if (!(c->in = malloc(rest)))
				die("malloc");
			memcpy(c->in, data + len - rest, rest);
		} else {
			memmove(c->in, data + len - rest, rest);
		}
		c->inlen = rest;
		if (!writeConn(l, c, l->out, l->outlen) || ((size_t)n < readSize && !readClosed))
			return;
	}
}

static void acceptAll(struct loop *l) {
	for (;;) {
		int fd = accept4(l->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				perror("accept4"); // out of fds: the rest wait in the queue
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct conn *c = calloc(1, sizeof *c);
		if (!c)
			die("calloc");
		c->fd = fd;
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c};
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			die("epoll_ctl ADD");
	}
}

static void *serve(void *arg) {
	struct loop *l = arg;
	struct epoll_event events[maxEvents];
	for (;;) {
		int n = epoll_wait(l->epfd, events, maxEvents, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait");
		for (int i = 0; i < n; i++) {
			if (events[i].data.ptr == &listenerMark) {
				acceptAll(l);
				continue;
			}
			struct conn *c = events[i].data.ptr;
			if (c->waiting)
				flushConn(l, c);
			else
				readConn(l, c, (events[i].events & EPOLLRDHUP) != 0);
		}
	}
	return NULL;
}

static int listenOn(struct sockaddr_in *sa) {
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)sa, sizeof *sa) < 0 || listen(fd, 4096) < 0)
		die("listen");
	socklen_t len = sizeof *sa;
	if (getsockname(fd, (struct sockaddr *)sa, &len) < 0) // the port, if 0 was asked
		die("getsockname");
	return fd;
}

static void usage(void) {
	fprintf(stderr, "usage: cfloor [-addr ip:port] [-threads N]   (IPv4; port 0 picks a free one)\n");
	exit(2);
}

int main(int argc, char **argv) {
	const char *addr = "127.0.0.1:8080";
	long threads = sysconf(_SC_NPROCESSORS_ONLN);
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-addr") || !strcmp(argv[i], "--addr")) && i + 1 < argc)
			addr = argv[++i];
		else if ((!strcmp(argv[i], "-threads") || !strcmp(argv[i], "--threads")) && i + 1 < argc)
			threads = strtol(argv[++i], NULL, 10);
		else
			usage();
	}
	if (threads < 1 || threads > 1024)
		usage();
	char host[64];
	const char *colon = strrchr(addr, ':');
	if (!colon || (size_t)(colon - addr) >= sizeof host)
		usage();
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		usage();

	// As many fds as the hard limit allows, as Go programs do for themselves.
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	mkresp(RESPONSE("200 OK", "%s", ""), "hello\n", &okResp);
	mkresp(RESPONSE("200 OK", "%s", "Connection: close\r\n"), "hello\n", &okClose);
	mkresp(RESPONSE("400 Bad Request", "%s", "Connection: close\r\n"), "malformed request\n", &badRequest);
	mkresp(RESPONSE("405 Method Not Allowed", "%s", "Allow: GET\r\nConnection: close\r\n"), "only GET is served\n", &notAllowed);
	mkresp(RESPONSE("413 Content Too Large", "%s", "Connection: close\r\n"), "request bodies are not accepted\n", &bodyRefused);
	mkresp(RESPONSE("431 Request Header Fields Too Large", "%s", "Connection: close\r\n"), "request head over 8 KiB\n", &headTooLarge);

	struct loop *loops = calloc((size_t)threads, sizeof *loops);
	if (!loops)
		die("calloc");
	for (long i = 0; i < threads; i++) {
		struct loop *l = &loops[i];
		l->listener = listenOn(&sa); // the first binds the port the others share
		if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
			die("epoll_create1");
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = &listenerMark};
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->listener, &ev) < 0)
			die("epoll_ctl listener");
	}
	char ip[INET_ADDRSTRLEN];
	printf("listening on %s:%d\n", inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip), ntohs(sa.sin_port));
	fflush(stdout);
	for (long i = 1; i < threads; i++) {
		pthread_t t;
		if ((errno = pthread_create(&t, NULL, serve, &loops[i])) != 0)
			die("pthread_create");
	}
	serve(&loops[0]); // the main thread is loop 0
	return 0;
}
