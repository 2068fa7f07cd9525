/*
 * httpc: tallyctl's HTTP/1.1 client for the admin API. An answer is
 * decoded byte by byte as it arrives (httpc_feed): the status line, the
 * headers, then a body of Content-Length bytes, of chunks, or up to the
 * end of the connection, whose bytes go to the caller's callback as
 * they come. It reads what any server may send (--url): every line has
 * a bound, every number a range, and anything else is an error that
 * says what was wrong. fuzz_httpc drives it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "httpc.h"

#define HTTPC_BODY_MAX		(1LL << 40)	/* a length we believe */
#define HTTPC_TIMEOUT		120		/* s without a byte */

void
httpc_init(struct httpc *h, int (*body)(const char *, size_t, void *),
    void *arg)
{
	memset(h, 0, sizeof(*h));
	h->length = -1;
	h->body = body;
	h->arg = arg;
}

static int
httpc_fail(struct httpc *h, const char *what)
{
	snprintf(h->err, sizeof(h->err), "bad answer: %s", what);
	return (-1);
}

/* "HTTP/1.x NNN reason" */
static int
httpc_status(struct httpc *h, const char *l)
{
	if (strncmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') ||
	    l[8] != ' ' || l[9] < '1' || l[9] > '5' || l[10] < '0' ||
	    l[10] > '9' || l[11] < '0' || l[11] > '9' ||
	    (l[12] != ' ' && l[12] != '\0'))
		return (httpc_fail(h, "no HTTP/1.x status line"));
	h->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	h->state = HTTPC_HEADER;
	return (0);
}

/* A decimal Content-Length, or a chunk's hex size (";ext" ignored). */
static int
httpc_number(const char *s, int base, long long *v)
{
	long long	 n = 0;
	int		 d, any = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s != '\0'; s++, any = 1) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		n = n * base + d;
		if (n > HTTPC_BODY_MAX)
			return (-1);
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (!any || (*s != '\0' && (base != 16 || *s != ';')))
		return (-1);
	*v = n;
	return (0);
}

/* One header line; the empty one ends them and says what body follows. */
static int
httpc_header(struct httpc *h, char *l)
{
	char	*v;

	if (*l == '\0') {
		if (h->status < 200) {		/* 100 Continue: another */
			h->state = HTTPC_STATUS;
			h->chunked = 0;
			h->length = -1;
			return (0);
		}
		if (h->status == 204 || h->status == 304)
			h->state = HTTPC_DONE;
		else if (h->chunked)
			h->state = HTTPC_CHUNK_SIZE;
		else if (h->length >= 0) {
			h->left = h->length;
			h->state = h->left > 0 ? HTTPC_BODY : HTTPC_DONE;
		} else
			h->state = HTTPC_BODY_EOF;
		return (0);
	}
	if ((v = strchr(l, ':')) == NULL || v == l)
		return (httpc_fail(h, "a header without a name"));
	*v++ = '\0';
	while (*v == ' ' || *v == '\t')
		v++;
	if (strcasecmp(l, "Content-Length") == 0) {
		if (httpc_number(v, 10, &h->length) == -1)
			return (httpc_fail(h, "bad Content-Length"));
	} else if (strcasecmp(l, "Transfer-Encoding") == 0) {
		if (strcasecmp(v, "chunked") != 0)
			return (httpc_fail(h, "a transfer coding other than "
			    "chunked"));
		h->chunked = 1;
	} else if (strcasecmp(l, "Content-Type") == 0)
		snprintf(h->ctype, sizeof(h->ctype), "%s", v);
	return (0);
}

/* A whole line (without its CRLF) in the state that reads lines. */
static int
httpc_line(struct httpc *h, char *l)
{
	long long	 n;

	switch (h->state) {
	case HTTPC_STATUS:
		return (httpc_status(h, l));
	case HTTPC_HEADER:
		return (httpc_header(h, l));
	case HTTPC_CHUNK_SIZE:
		if (httpc_number(l, 16, &n) == -1)
			return (httpc_fail(h, "bad chunk size"));
		h->left = n;
		h->state = n > 0 ? HTTPC_CHUNK_DATA : HTTPC_TRAILER;
		return (0);
	case HTTPC_CHUNK_END:
		if (*l != '\0')
			return (httpc_fail(h, "no line end after a chunk"));
		h->state = HTTPC_CHUNK_SIZE;
		return (0);
	case HTTPC_TRAILER:
		if (*l == '\0')
			h->state = HTTPC_DONE;
		return (0);
	default:
		return (httpc_fail(h, "internal state"));
	}
}

/* Body bytes to the caller. */
static int
httpc_give(struct httpc *h, const char *p, size_t n)
{
	if (n > 0 && h->body != NULL && h->body(p, n, h->arg) == -1) {
		snprintf(h->err, sizeof(h->err), "cannot write the answer");
		return (-1);
	}
	return (0);
}

/*
 * Decode n more bytes of the answer: -1 on an error (h->err says it),
 * 1 when the answer is complete (bytes after it are ignored), 0 for
 * more.
 */
int
httpc_feed(struct httpc *h, const char *p, size_t n)
{
	size_t	 take;

	while (n > 0 && h->state != HTTPC_DONE) {
		if (h->state == HTTPC_BODY_EOF)
			return (httpc_give(h, p, n) == -1 ? -1 : 0);
		if (h->state == HTTPC_BODY || h->state == HTTPC_CHUNK_DATA) {
			take = (long long)n < h->left ? n : (size_t)h->left;
			if (httpc_give(h, p, take) == -1)
				return (-1);
			p += take;
			n -= take;
			if ((h->left -= (long long)take) == 0)
				h->state = h->state == HTTPC_BODY ?
				    HTTPC_DONE : HTTPC_CHUNK_END;
			continue;
		}
		if (*p == '\n') {
			if (h->nline > 0 && h->line[h->nline - 1] == '\r')
				h->nline--;
			h->line[h->nline] = '\0';
			h->nline = 0;
			p++;
			n--;
			if (httpc_line(h, h->line) == -1)
				return (-1);
			continue;
		}
		if (*p == '\0')
			return (httpc_fail(h, "a NUL byte in a line"));
		if (h->nline + 1 >= sizeof(h->line))
			return (httpc_fail(h, "a line too long"));
		h->line[h->nline++] = *p++;
		n--;
	}
	return (h->state == HTTPC_DONE);
}

/* The connection ended: 1 if the answer was whole, else -1. */
int
httpc_eof(struct httpc *h)
{
	if (h->state == HTTPC_DONE || h->state == HTTPC_BODY_EOF)
		return (1);
	snprintf(h->err, sizeof(h->err), "the answer ended early");
	return (-1);
}

/* "http://HOST:PORT[/]": where the API's TCP listener is. */
int
httpc_url(const char *url, struct httpc_target *t, char *err, size_t errlen)
{
	const char	*p, *colon, *end;
	size_t		 n;

	memset(t, 0, sizeof(*t));
	if (strncmp(url, "http://", 7) != 0) {
		snprintf(err, errlen, "%s: not http://HOST:PORT", url);
		return (-1);
	}
	p = url + 7;
	end = p + strcspn(p, "/");
	if (*end == '/' && end[1] != '\0') {
		snprintf(err, errlen, "%s: the URL has no path (the API is at "
		    "its root)", url);
		return (-1);
	}
	if (*p == '[') {			/* [::1]:8092 */
		if ((colon = memchr(p, ']', end - p)) == NULL ||
		    colon[1] != ':') {
			snprintf(err, errlen, "%s: not http://HOST:PORT", url);
			return (-1);
		}
		n = colon - p - 1;
		p++;
		colon++;
	} else {
		for (colon = end; colon > p && colon[-1] != ':'; colon--)
			;
		if (colon == p) {
			snprintf(err, errlen, "%s: not http://HOST:PORT", url);
			return (-1);
		}
		colon--;
		n = colon - p;
	}
	if (n == 0 || n >= sizeof(t->host) || end - colon - 1 < 1 ||
	    end - colon - 1 >= (long)sizeof(t->port) ||
	    strspn(colon + 1, "0123456789") < (size_t)(end - colon - 1)) {
		snprintf(err, errlen, "%s: not http://HOST:PORT", url);
		return (-1);
	}
	memcpy(t->host, p, n);
	memcpy(t->port, colon + 1, end - colon - 1);
	return (0);
}

static int
httpc_connect(const struct httpc_target *t, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct addrinfo		 hints, *res, *ai;
	int			 fd = -1, rc;

	if (t->sock[0] != '\0') {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", t->sock);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
			snprintf(err, errlen, "%s: %s (is tallygw running?)",
			    t->sock, strerror(errno));
			if (fd != -1)
				close(fd);
			return (-1);
		}
		return (fd);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(t->host, t->port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", t->host, gai_strerror(rc));
		return (-1);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype,
		    ai->ai_protocol)) == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1)
		snprintf(err, errlen, "%s:%s: %s (is tallygw listening?)",
		    t->host, t->port, strerror(errno));
	freeaddrinfo(res);
	return (fd);
}

static int
httpc_write(int fd, const char *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += w;
		n -= (size_t)w;
	}
	return (0);
}

/*
 * One request (method, path with its query) and its whole answer into
 * h: 0, or -1 with err. The status is the caller's to judge.
 */
int
httpc_do(const struct httpc_target *t, const char *method, const char *path,
    struct httpc *h, char *err, size_t errlen)
{
	struct timeval	 tv = { HTTPC_TIMEOUT, 0 };
	char		 req[4096], buf[16384];
	ssize_t		 n;
	int		 fd, len, rc = 0;

	len = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "Connection: close\r\nAccept: application/json, text/csv\r\n"
	    "User-Agent: tallyctl\r\n%s%s%s%s\r\n", method, path,
	    t->sock[0] != '\0' ? "tallygw" : t->host,
	    strcmp(method, "POST") == 0 ? "Content-Length: 0\r\n" : "",
	    t->token[0] != '\0' ? "Authorization: Bearer " : "", t->token,
	    t->token[0] != '\0' ? "\r\n" : "");
	if (len < 0 || (size_t)len >= sizeof(req)) {
		snprintf(err, errlen, "request too long");
		return (-1);
	}
	if ((fd = httpc_connect(t, err, errlen)) == -1)
		return (-1);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (httpc_write(fd, req, (size_t)len) == -1) {
		snprintf(err, errlen, "%s: %s", t->sock[0] ? t->sock : t->host,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	explicit_bzero(req, sizeof(req));
	for (;;) {
		if ((n = read(fd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", t->sock[0] ? t->sock :
			    t->host, errno == EAGAIN ? "no answer in time" :
			    strerror(errno));
			rc = -1;
			break;
		}
		if (n == 0) {
			if (httpc_eof(h) == -1) {
				snprintf(err, errlen, "%s", h->err);
				rc = -1;
			}
			break;
		}
		if ((rc = httpc_feed(h, buf, (size_t)n)) == -1) {
			snprintf(err, errlen, "%s", h->err);
			break;
		}
		if (rc == 1) {
			rc = 0;
			break;
		}
	}
	close(fd);
	return (rc);
}
