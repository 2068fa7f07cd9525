/*
 * reply.h: the texts a KPPS officer receives by SMS (gateway/tally/
 * reply.c). Part of the protocol library so that the daemon and
 * tallyctl say exactly the same: it knows nothing of the daemon's store.
 */

#ifndef REPLY_H
#define REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "tally.h"

#define REPLY_MAX		160	/* GSM 7-bit characters in one SMS */
#define REPLY_PART		153	/* ... in one part of a long SMS */
#define REPLY_PARTS_MAX		4	/* parts of the longest reply */
#define REPLY_LONG_MAX		(REPLY_PART * REPLY_PARTS_MAX)
#define REPLY_TEXT_MAX		(REPLY_LONG_MAX + 1)	/* buffer, with NUL */

enum reply_lang {
	REPLY_ID = 0,
	REPLY_EN,
};

/* What an incoming text is (reply_classify); the daemon adds MSG_RATE. */
enum msg_kind {
	MSG_REPORT = 1,		/* a tally report, whatever its verdict */
	MSG_CEK,		/* CEK TPS */
	MSG_BANTU,		/* BANTU */
	MSG_OTHER,		/* not recognised: answered with a hint */
	MSG_RATE,		/* over the sender's rate limit: kept only */
};

/* What the reply to a report needs of the message besides its verdict. */
struct reply_msg {
	int64_t		 id;		/* for log lines; 0 not stored */
	int		 decoded;	/* report holds tps/contest/seq... */
	char		 receipt[TALLY_CODE_LEN + 1];	/* "" take res's */
	struct report	 report;
};

/* What CEK reports for one (contest, page) of a TPS. */
struct reply_latest {
	enum contest	 contest;
	int		 page;
	unsigned	 seq;
	char		 receipt[TALLY_CODE_LEN + 1];
	enum verdict	 verdict;
};

int		 reply_report(enum reply_lang, const struct reply_msg *,
		    const struct verify_result *, char *, size_t, char *,
		    size_t);
int		 reply_screen(enum reply_lang, const struct reply_msg *,
		    const struct verify_result *, char *, size_t);
int		 reply_cek(enum reply_lang, uint64_t,
		    const struct reply_latest *, size_t, char *, size_t);
int		 reply_bantu(enum reply_lang, char *, size_t);
int		 reply_other(enum reply_lang, char *, size_t);
int		 reply_unreadable(enum reply_lang, char *, size_t);
int		 reply_tps_unknown(enum reply_lang, const char *, char *,
		    size_t);
size_t		 reply_merge(enum reply_lang, const char **, size_t, char *,
		    size_t);
int		 reply_label_value(enum reply_lang, const struct report *,
		    const struct form *, size_t, char *, size_t);
size_t		 reply_gsm_length(const char *);
int		 reply_parts(const char *);
enum msg_kind	 reply_classify(const char *, uint64_t *, int *);
int		 reply_check_texts(char *, size_t);

#endif /* REPLY_H */
