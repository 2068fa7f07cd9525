/*
 * httpc.h: tallyctl's HTTP/1.1 client for the admin API (docs/admin.md):
 * one request per connection, on the control socket or TCP; the answer
 * is decoded as it comes (Content-Length, chunked, or up to EOF), and
 * its body handed on piece by piece, so an export is never held whole.
 */
#ifndef HTTPC_H
#define HTTPC_H

#include <stddef.h>

#define HTTPC_LINE_MAX		8192	/* status line, a header, a size */
#define HTTPC_ERR_MAX		256

enum httpc_state {
	HTTPC_STATUS = 0,	/* "HTTP/1.1 200 OK" */
	HTTPC_HEADER,		/* "Name: value" up to an empty line */
	HTTPC_BODY,		/* Content-Length bytes */
	HTTPC_BODY_EOF,		/* up to the end of the connection */
	HTTPC_CHUNK_SIZE,	/* a chunk's size line */
	HTTPC_CHUNK_DATA,
	HTTPC_CHUNK_END,	/* the CRLF after a chunk */
	HTTPC_TRAILER,		/* after the last chunk, up to an empty line */
	HTTPC_DONE,
};

/* One answer being decoded. */
struct httpc {
	enum httpc_state	 state;
	int			 status;
	char			 ctype[128];	/* Content-Type */
	int			 chunked;
	long long		 length;	/* Content-Length, -1 none */
	long long		 left;		/* of the body or the chunk */
	char			 line[HTTPC_LINE_MAX];
	size_t			 nline;
	int			(*body)(const char *, size_t, void *);
	void			*arg;
	char			 err[HTTPC_ERR_MAX];
};

/* Where the API is: a UNIX socket, or http://HOST:PORT with a token. */
struct httpc_target {
	char			 sock[108];	/* "" for TCP */
	char			 host[256];
	char			 port[8];
	char			 token[256];	/* "" none */
};

void	httpc_init(struct httpc *, int (*)(const char *, size_t, void *),
	    void *);
int	httpc_feed(struct httpc *, const char *, size_t);
int	httpc_eof(struct httpc *);
int	httpc_url(const char *, struct httpc_target *, char *, size_t);
int	httpc_do(const struct httpc_target *, const char *, const char *,
	    struct httpc *, char *, size_t);

#endif /* HTTPC_H */
