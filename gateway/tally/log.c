/*
 * Logging to stderr or syslog, after OpenBSD's log.c.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int	 log_to = LOG_TO_STDERR;
static int	 log_verbose;
static const char *log_procname = "tally";
static char	 log_prefix[128];	/* before every line, "" none */
static int	 log_holding;		/* log_hold: lines wait in log_held */
static char	 log_held[16384];	/* more than vlog's longest line */
static size_t	 log_nheld;

void
log_init(const char *procname, int to, int verbose)
{
	log_procname = procname;
	log_to = to;
	log_verbose = verbose;
	if (log_to == LOG_TO_SYSLOG)
		openlog(procname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

/* A process that serves one thing (a modem worker) names it on every line. */
void
log_setprefix(const char *prefix)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s", prefix);
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

/* Write n bytes to standard error, all of them unless it fails. */
static void
log_write(const char *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(STDERR_FILENO, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/*
 * Until log_release, the lines for standard error wait in memory and
 * go out together: a batch of reports logs one line each, and a write
 * a line was a system call a report. A fatal line writes them first.
 */
void
log_hold(void)
{
	if (log_to == LOG_TO_STDERR)
		log_holding = 1;
}

void
log_release(void)
{
	log_holding = 0;
	log_write(log_held, log_nheld);
	log_nheld = 0;
}

/*
 * A line as text only: control characters (C0, DEL, and C1 written in
 * UTF-8) as escapes, since a message's text reaches the log and an SMS
 * could otherwise forge log lines or drive the operator's terminal.
 */
static void
log_clean(const char *s, char *out, size_t outsz)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 o = 0;
	char			 e[8];
	int			 n;

	for (; *p != '\0'; p++) {
		if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			n = snprintf(e, sizeof(e), "\\u%04x", *++p);
		else if (*p == '\n')
			n = snprintf(e, sizeof(e), "\\n");
		else if (*p == '\t')
			n = snprintf(e, sizeof(e), "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			n = snprintf(e, sizeof(e), "\\x%02x", *p);
		else {
			e[0] = (char)*p;
			n = 1;
		}
		if (o + (size_t)n >= outsz)
			break;
		memcpy(out + o, e, (size_t)n);
		o += (size_t)n;
	}
	out[o] = '\0';
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char		 raw[2048], buf[sizeof(raw) * 3];
	char		 line[sizeof(buf) + sizeof(log_prefix) + 64];
	const char	*lvl;
	int		 n;

	if (pri != LOG_CRIT && log_verbose < 0)
		return;
	if (pri == LOG_DEBUG && log_verbose < 2)
		return;
	if (pri == LOG_INFO && log_verbose < 1)
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	log_clean(raw, buf, sizeof(buf));
	if (log_to == LOG_TO_SYSLOG) {
		syslog(pri, "%s%s", log_prefix, buf);
		return;
	}
	switch (pri) {
	case LOG_CRIT:
		lvl = "fatal";
		break;
	case LOG_ERR:
	case LOG_WARNING:
		lvl = "warn";
		break;
	case LOG_INFO:
		lvl = "info";
		break;
	default:
		lvl = "debug";
		break;
	}
	n = snprintf(line, sizeof(line), "%s: %s: %s%s\n", log_procname, lvl,
	    log_prefix, buf);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* Held: after the lines before it, which go out first if full. */
	if (log_holding && pri != LOG_CRIT) {
		if ((size_t)n > sizeof(log_held) - log_nheld) {
			log_write(log_held, log_nheld);
			log_nheld = 0;
		}
		memcpy(log_held + log_nheld, line, (size_t)n);
		log_nheld += (size_t)n;
		return;
	}
	log_write(log_held, log_nheld);
	log_nheld = 0;
	log_write(line, (size_t)n);
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

/* Warn with the text of errno appended. */
void
log_warn(const char *fmt, ...)
{
	char	buf[1024];
	int	saved = errno;
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	logit(LOG_WARNING, "%s: %s", buf, strerror(saved));
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	char	buf[1024];
	int	saved = errno;
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	logit(LOG_CRIT, "%s: %s", buf, strerror(saved));
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
