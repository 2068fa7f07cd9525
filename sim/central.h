/*
 * tallysim's central receiver: the HTTP end of docs/forward.md.
 * Stores what a gateway forwards in SQLite, deduplicates by the
 * idempotency key, verifies the gateway's Ed25519 signature, can be
 * taken down and brought back, and reports what it holds.
 * Self-contained: it depends on libevent, SQLite, libsodium, jansson
 * and libtally only, not on the rest of sim/.
 */

#ifndef CENTRAL_H
#define CENTRAL_H

#include <stddef.h>
#include <stdio.h>

struct event_base;
struct central;

#define CENTRAL_BODY_MAX	(64 * 1024)	/* larger bodies get 413 */

/*
 * An HTTP server on addr:port (port 0: the kernel picks one, see
 * central_port) storing into the SQLite file dbpath. pubkey_path is a
 * file of `ed25519-public HEX64' lines (any of them may sign); NULL
 * accepts unsigned bodies and records signature_ok false. NULL and a
 * message in err on failure.
 */
struct central	*central_new(struct event_base *, const char *, const char *,
		    int, const char *, char *, size_t);
int		 central_port(struct central *);
/* Down: no listening socket, open connections dropped; up: same port. */
void		 central_set_down(struct central *, int);
int		 central_is_down(struct central *);
/* Every record, oldest first: JSON lines (json != 0) or a table. */
int		 central_dump(struct central *, FILE *, int);
int		 central_stats(struct central *, size_t *, size_t *, size_t *);
void		 central_free(struct central *);

/*
 * Key files shared with the gateway: `ed25519-secret HEX128' (libsodium's
 * 64-byte secret key, mode 0600) and `ed25519-public HEX64'.
 */
int		 central_keygen(const char *, const char *);

/*
 * Send one control line (dump, dump --json, down, up, stats) to the
 * receiver running in rundir and copy its answer to out.
 */
int		 central_ctl(const char *, const char *, FILE *);

/*
 * The same exchange without blocking, for a program with its own loop:
 * connect to the receiver in rundir and send the line; the callback
 * runs from the loop with rc 0 and the whole answer once the receiver
 * has closed, or rc -1 and a reason if it refused ("error: ..."), the
 * connection failed or it said nothing for timeout seconds.  NULL and
 * errno if it cannot connect (ENOENT or ECONNREFUSED: none runs there).
 * The query is freed after the callback; cancel frees it before.
 */
struct evbuffer;
struct central_query;
typedef void	(*central_query_cb)(int, const char *, struct evbuffer *,
		    void *);
struct central_query *central_query(struct event_base *, const char *,
		    const char *, int, central_query_cb, void *);
void		 central_query_cancel(struct central_query *);

/*
 * `tallysim central --dir RUNDIR [--listen ADDR:PORT] [--pubkey FILE]
 * [-v]': argv[0] is the command name. With `--ctl LINE' it sends LINE
 * to the receiver running in RUNDIR instead.
 */
int		 central_main(int, char **);

#endif /* CENTRAL_H */
