/*
 * The election definition: which form a TPS fills in for each contest.
 *
 * A small line-oriented file (docs/election.md) names the candidate
 * pairs, the parties, the DPD ballots and the electoral districts.  The
 * parser is table-driven; every error names the file, the line and the
 * problem.  Districts are found by the longest area prefix of the TPS
 * code, with one sorted array per prefix length and contest, so a
 * lookup is at most four binary searches.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "tally.h"

#define ELECTION_PARTY_MAX	99	/* ballot numbers 1..99 */
#define ELECTION_PROV_MIN	11	/* province codes 11..99 */
#define ELECTION_PROV_MAX	99
#define ELECTION_NAME_MAX	127	/* bytes in a name */
#define ELECTION_PARTY_NAME_MAX	31
#define ELECTION_FILE_MAX	(64 * 1024 * 1024)
#define ELECTION_CHOICES_MAX	(TALLY_MAXVALUES - 3)	/* + PEMILIH,
							   SAH, TIDAK_SAH */
#define ELECTION_CAND_MAX	(TALLY_MAXVALUES - 1)	/* + PARTAI */
#define ELECTION_CAND_DEFAULT	0xff	/* candidates = seats */
#define ELECTION_NLEN		4	/* area prefix lengths */
#define ELECTION_NPAGED		3	/* DPR, DPRDP, DPRDK */

extern const char election_default_text[], election_default_end[];

/* Area prefix lengths, shortest first, and what divides a TPS code. */
static const int	 area_len[ELECTION_NLEN] = { 2, 4, 6, 10 };
static const uint64_t	 area_div[ELECTION_NLEN] = {
	100000000000ULL, 1000000000ULL, 10000000ULL, 1000ULL
};

struct district {
	char		*name;
	int		 line;
	int		 province;
	int		 seats;
	uint8_t		 cand[ELECTION_PARTY_MAX + 1];
};

struct area {
	uint64_t	 prefix;
	uint32_t	 district;
	int		 line;
};

/* One paged contest: its districts and their areas by prefix length. */
struct paged {
	struct district	*d;
	size_t		 nd;
	size_t		 dcap;
	struct area	*a[ELECTION_NLEN];
	size_t		 na[ELECTION_NLEN];
	size_t		 acap[ELECTION_NLEN];
};

struct election {
	char		*name;
	int		 pairs;
	char		*party[ELECTION_PARTY_MAX + 1];
	uint64_t	 only[ELECTION_PARTY_MAX + 1][2];  /* province bits */
	int		 dpd[ELECTION_PROV_MAX + 1];
	struct paged	 paged[ELECTION_NPAGED];
};

struct parse {
	struct election	*el;
	const char	*file;
	int		 line;
	char		*errbuf;
	size_t		 errlen;
	int		 election_line;
	int		 pairs_line;
	int		 party_line[ELECTION_PARTY_MAX + 1];
	int		 dpd_line[ELECTION_PROV_MAX + 1];
	struct paged	*last;		/* contest of the last district */
};

static int	 election_parse_header(struct parse *, int, char **);
static int	 election_parse_pairs(struct parse *, int, char **);
static int	 election_parse_party(struct parse *, int, char **);
static int	 election_parse_dpd(struct parse *, int, char **);
static int	 election_parse_district(struct parse *, int, char **);
static int	 election_parse_candidates(struct parse *, int, char **);

static const struct directive {
	const char	*name;
	int		 minargs;
	int		 maxargs;	/* -1: no limit */
	int		(*fn)(struct parse *, int, char **);
} directives[] = {
	{ "candidates",	1, -1,	election_parse_candidates },
	{ "district",	6, -1,	election_parse_district },
	{ "dpd",	2, 2,	election_parse_dpd },
	{ "election",	1, 1,	election_parse_header },
	{ "pairs",	1, 1,	election_parse_pairs },
	{ "party",	2, 4,	election_parse_party },
};

static const char *const paged_name[ELECTION_NPAGED] = {
	"DPR", "DPRDP", "DPRDK"
};

static int	 election_err(struct parse *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));

/* Say what is wrong, prefixed by file and line; always returns -1. */
static int
election_err(struct parse *p, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (p->errbuf == NULL || p->errlen == 0)
		return (-1);
	n = snprintf(p->errbuf, p->errlen, "%s:%d: ", p->file, p->line);
	if (n < 0 || (size_t)n >= p->errlen)
		return (-1);
	va_start(ap, fmt);
	vsnprintf(p->errbuf + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return (-1);
}

static int
election_paged_index(enum contest c)
{
	switch (c) {
	case CONTEST_DPR:
		return (0);
	case CONTEST_DPRDP:
		return (1);
	case CONTEST_DPRDK:
		return (2);
	default:
		return (-1);
	}
}

/* Parse a decimal number in min..max, naming what it is on error. */
static int
election_num(struct parse *p, const char *dir, const char *what,
    const char *s, long min, long max, long *out)
{
	const char	*q;
	long		 v = 0;

	if (*s == '\0')
		return (election_err(p, "%s: %s is empty", dir, what));
	for (q = s; *q != '\0'; q++) {
		if (*q < '0' || *q > '9')
			return (election_err(p, "%s: %s \"%s\" is not a number",
			    dir,
			    what, s));
		if (v <= max)
			v = v * 10 + (*q - '0');
	}
	if (v < min || v > max)
		return (election_err(p, "%s: %s %s is out of range %ld..%ld",
		    dir, what,
		    s, min, max));
	*out = v;
	return (0);
}

/* A 2-digit province code, 11..99. */
static int
election_province(struct parse *p, const char *dir, const char *s, int *out)
{
	if (strlen(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' ||
	    s[1] > '9' || (s[0] - '0') * 10 + (s[1] - '0') < ELECTION_PROV_MIN)
		return (election_err(p,
		    "%s: province \"%s\" is not a 2-digit province "
		    "code %d..%d", dir, s, ELECTION_PROV_MIN,
		    ELECTION_PROV_MAX));
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return (0);
}

static int
election_check_name(struct parse *p, const char *dir, const char *what,
    const char *s, size_t max)
{
	if (*s == '\0')
		return (election_err(p, "%s: %s is empty", dir, what));
	if (strlen(s) > max)
		return (election_err(p, "%s: %s is longer than %zu bytes", dir,
		    what,
		    max));
	return (0);
}

static int
election_party_local(const struct election *el, int n)
{
	return (el->only[n][0] != 0 || el->only[n][1] != 0);
}

static int
election_party_in(const struct election *el, int n, int prov)
{
	return ((el->only[n][prov / 64] >> (prov % 64)) & 1);
}

/* Is party n on the ballot of this contest in this province? */
static int
election_on_ballot(const struct election *el, int ci, int prov, int n)
{
	if (n < 1 || n > ELECTION_PARTY_MAX || el->party[n] == NULL)
		return (0);
	if (!election_party_local(el, n))
		return (1);
	return (ci != 0 && election_party_in(el, n, prov));
}

static int
election_parse_header(struct parse *p, int argc, char **argv)
{
	(void)argc;
	if (p->election_line != 0)
		return (election_err(p, "election: already named at line %d",
		    p->election_line));
	if (election_check_name(p, "election", "name", argv[0],
	    ELECTION_NAME_MAX) == -1)
		return (-1);
	if ((p->el->name = strdup(argv[0])) == NULL)
		return (election_err(p, "election: %s", strerror(errno)));
	p->election_line = p->line;
	return (0);
}

static int
election_parse_pairs(struct parse *p, int argc, char **argv)
{
	long	 n;

	(void)argc;
	if (p->pairs_line != 0)
		return (election_err(p, "pairs: already set at line %d",
		    p->pairs_line));
	if (election_num(p, "pairs", "count", argv[0], 0, ELECTION_CHOICES_MAX,
	    &n) == -1)
		return (-1);
	p->el->pairs = n;
	p->pairs_line = p->line;
	return (0);
}

static int
election_parse_party(struct parse *p, int argc, char **argv)
{
	struct election	*el = p->el;
	char		*s, *comma;
	long		 n;
	int		 i, prov;

	if (election_num(p, "party", "ballot number", argv[0], 1,
	    ELECTION_PARTY_MAX, &n) == -1)
		return (-1);
	if (p->party_line[n] != 0)
		return (election_err(p,
		    "party: ballot number %ld already defined at "
		    "line %d", n, p->party_line[n]));
	if (election_check_name(p, "party", "name", argv[1],
	    ELECTION_PARTY_NAME_MAX) == -1)
		return (-1);
	for (i = 1; i <= ELECTION_PARTY_MAX; i++)
		if (el->party[i] != NULL && strcasecmp(el->party[i],
		    argv[1]) == 0)
			return (election_err(p,
			    "party: name %s already used by party "
			    "%d", argv[1], i));
	if (argc == 3)
		return (election_err(p, "party: \"%s\" needs a province list",
		    argv[2]));
	if (argc == 4) {
		if (strcmp(argv[2], "only") != 0)
			return (election_err(p,
			    "party: expected \"only\", got \"%s\"",
			    argv[2]));
		for (s = argv[3]; s != NULL; s = comma) {
			if ((comma = strchr(s, ',')) != NULL)
				*comma++ = '\0';
			if (election_province(p, "party", s, &prov) == -1)
				return (-1);
			el->only[n][prov / 64] |= 1ULL << (prov % 64);
		}
	}
	if ((el->party[n] = strdup(argv[1])) == NULL)
		return (election_err(p, "party: %s", strerror(errno)));
	p->party_line[n] = p->line;
	return (0);
}

static int
election_parse_dpd(struct parse *p, int argc, char **argv)
{
	long	 n;
	int	 prov;

	(void)argc;
	if (election_province(p, "dpd", argv[0], &prov) == -1)
		return (-1);
	if (p->dpd_line[prov] != 0)
		return (election_err(p,
		    "dpd: province %02d already defined at line %d",
		    prov, p->dpd_line[prov]));
	if (election_num(p, "dpd", "candidate count", argv[1], 1,
	    ELECTION_CHOICES_MAX, &n) == -1)
		return (-1);
	p->el->dpd[prov] = n;
	p->dpd_line[prov] = p->line;
	return (0);
}

/* Add one area prefix of district di to its contest. */
static int
election_add_area(struct parse *p, struct paged *pc, uint32_t di, const char *s)
{
	struct area	*a;
	size_t		 len = strlen(s), cap;
	uint64_t	 v = 0;
	int		 k, prov;

	for (k = 0; k < ELECTION_NLEN; k++)
		if ((size_t)area_len[k] == len)
			break;
	if (k == ELECTION_NLEN || strspn(s, "0123456789") != len)
		return (election_err(p,
		    "district: area \"%s\" is not a code of 2, 4, "
		    "6 or 10 digits", s));
	prov = (s[0] - '0') * 10 + (s[1] - '0');
	if (prov < ELECTION_PROV_MIN)
		return (election_err(p,
		    "district: area %s is not in a province %d..%d",
		    s, ELECTION_PROV_MIN, ELECTION_PROV_MAX));
	if (pc->d[di].province == 0)
		pc->d[di].province = prov;
	else if (pc->d[di].province != prov)
		return (election_err(p,
		    "district: area %s is in province %02d, "
		    "not %02d", s, prov, pc->d[di].province));
	for (; *s != '\0'; s++)
		v = v * 10 + (*s - '0');
	if (pc->na[k] == pc->acap[k]) {
		cap = pc->acap[k] ? pc->acap[k] * 2 : 64;
		if ((a = reallocarray(pc->a[k], cap, sizeof(*a))) == NULL)
			return (election_err(p, "district: %s",
			    strerror(errno)));
		pc->a[k] = a;
		pc->acap[k] = cap;
	}
	a = &pc->a[k][pc->na[k]++];
	a->prefix = v;
	a->district = di;
	a->line = p->line;
	return (0);
}

static int
election_parse_district(struct parse *p, int argc, char **argv)
{
	struct paged	*pc;
	struct district	*d;
	size_t		 cap;
	long		 seats;
	int		 ci, i;

	for (ci = 0; ci < ELECTION_NPAGED; ci++)
		if (strcmp(argv[0], paged_name[ci]) == 0)
			break;
	if (ci == ELECTION_NPAGED)
		return (election_err(p,
		    "district: contest \"%s\" has no districts "
		    "(DPR, DPRDP or DPRDK)", argv[0]));
	if (election_check_name(p, "district", "name", argv[1],
	    ELECTION_NAME_MAX) == -1)
		return (-1);
	if (strcmp(argv[2], "seats") != 0)
		return (election_err(p,
		    "district: expected \"seats\", got \"%s\"",
		    argv[2]));
	if (election_num(p, "district", "seats", argv[3], 1, ELECTION_CAND_MAX,
	    &seats) == -1)
		return (-1);
	if (strcmp(argv[4], "area") != 0)
		return (election_err(p,
		    "district: expected \"area\", got \"%s\"",
		    argv[4]));
	pc = &p->el->paged[ci];
	if (pc->nd == UINT32_MAX)
		return (election_err(p, "district: too many districts"));
	if (pc->nd == pc->dcap) {
		cap = pc->dcap ? pc->dcap * 2 : 64;
		if ((d = reallocarray(pc->d, cap, sizeof(*d))) == NULL)
			return (election_err(p, "district: %s",
			    strerror(errno)));
		pc->d = d;
		pc->dcap = cap;
	}
	d = &pc->d[pc->nd];
	memset(d, 0, sizeof(*d));
	memset(d->cand, ELECTION_CAND_DEFAULT, sizeof(d->cand));
	d->line = p->line;
	d->seats = seats;
	if ((d->name = strdup(argv[1])) == NULL)
		return (election_err(p, "district: %s", strerror(errno)));
	pc->nd++;
	p->last = pc;
	for (i = 5; i < argc; i++)
		if (election_add_area(p, pc, pc->nd - 1, argv[i]) == -1)
			return (-1);
	return (0);
}

static int
election_parse_candidates(struct parse *p, int argc, char **argv)
{
	struct district	*d;
	char		*eq;
	long		 party, n;
	int		 i, ci;

	if (p->last == NULL)
		return (election_err(p, "candidates: no district before it"));
	d = &p->last->d[p->last->nd - 1];
	ci = p->last - p->el->paged;
	for (i = 0; i < argc; i++) {
		if ((eq = strchr(argv[i], '=')) == NULL)
			return (election_err(p,
			    "candidates: \"%s\" is not PARTY=COUNT",
			    argv[i]));
		*eq++ = '\0';
		if (election_num(p, "candidates", "party", argv[i], 1,
		    ELECTION_PARTY_MAX, &party) == -1)
			return (-1);
		if (p->el->party[party] == NULL)
			return (election_err(p,
			    "candidates: party %ld is not defined",
			    party));
		if (!election_on_ballot(p->el, ci, d->province, party))
			return (election_err(p,
			    "candidates: party %ld is not on the "
			    "%s ballot of \"%s\"", party, paged_name[ci],
			    d->name));
		if (election_num(p, "candidates", "count", eq, 0,
		    ELECTION_CAND_MAX, &n) == -1)
			return (-1);
		if (d->cand[party] != ELECTION_CAND_DEFAULT)
			return (election_err(p,
			    "candidates: party %ld already given "
			    "for \"%s\"", party, d->name));
		d->cand[party] = n;
	}
	return (0);
}

static int
election_area_cmp(const void *a, const void *b)
{
	const struct area	*x = a, *y = b;

	if (x->prefix != y->prefix)
		return (x->prefix < y->prefix ? -1 : 1);
	return ((x->line > y->line) - (x->line < y->line));
}

static int
election_dname_cmp(const void *a, const void *b, void *arg)
{
	const struct district	*d = arg;
	const struct district	*x = &d[*(const uint32_t *)a];
	const struct district	*y = &d[*(const uint32_t *)b];
	int			 r;

	if ((r = strcmp(x->name, y->name)) != 0)
		return (r);
	return ((x->line > y->line) - (x->line < y->line));
}

/*
 * After the last line: sort the areas for lookup and find duplicate
 * areas and district names, reporting the earliest offending line.
 */
static int
election_finish_paged(struct parse *p, int ci)
{
	struct paged		*pc = &p->el->paged[ci];
	const struct area	*a, *b, *bad_a = NULL, *bad_b = NULL;
	uint32_t		*idx, bad_x = 0, bad_y = 0;
	size_t			 i;
	int			 k, bad = 0, bad_k = 0;

	for (k = 0; k < ELECTION_NLEN; k++) {
		if (pc->na[k] == 0)
			continue;
		qsort(pc->a[k], pc->na[k], sizeof(*pc->a[k]),
		    election_area_cmp);
		for (i = 1; i < pc->na[k]; i++) {
			a = &pc->a[k][i - 1];
			b = &pc->a[k][i];
			if (a->prefix != b->prefix)
				continue;
			if (bad_b == NULL || b->line < bad_b->line) {
				bad_a = a;
				bad_b = b;
				bad_k = k;
			}
		}
	}
	if (pc->nd > 0) {
		if ((idx = reallocarray(NULL, pc->nd, sizeof(*idx))) == NULL)
			return (election_err(p, "%s", strerror(errno)));
		for (i = 0; i < pc->nd; i++)
			idx[i] = i;
		qsort_r(idx, pc->nd, sizeof(*idx), election_dname_cmp, pc->d);
		for (i = 1; i < pc->nd; i++) {
			if (strcmp(pc->d[idx[i - 1]].name,
			    pc->d[idx[i]].name) != 0)
				continue;
			if (!bad || pc->d[idx[i]].line < pc->d[bad_y].line) {
				bad = 1;
				bad_x = idx[i - 1];
				bad_y = idx[i];
			}
		}
		free(idx);
	}
	if (bad && (bad_b == NULL || pc->d[bad_y].line <= bad_b->line)) {
		p->line = pc->d[bad_y].line;
		return (election_err(p,
		    "district: %s \"%s\" already defined at "
		    "line %d", paged_name[ci], pc->d[bad_y].name,
		    pc->d[bad_x].line));
	}
	if (bad_b != NULL) {
		p->line = bad_b->line;
		if (bad_a->district == bad_b->district)
			return (election_err(p,
			    "district: area %0*llu is listed twice",
			    area_len[bad_k],
			    (unsigned long long)bad_b->prefix));
		return (election_err(p,
		    "district: area %0*llu of %s \"%s\" already "
		    "belongs to \"%s\" (line %d)", area_len[bad_k],
		    (unsigned long long)bad_b->prefix, paged_name[ci],
		    pc->d[bad_b->district].name, pc->d[bad_a->district].name,
		    bad_a->line));
	}
	return (0);
}

/* Split one line into tokens in place; '#' outside quotes ends it. */
static int
election_tokenize(struct parse *p, char *s, char ***argvp, int *capp)
{
	char	**argv = *argvp, **na;
	int	  argc = 0, cap = *capp;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (*s == '\0' || *s == '#')
			break;
		if (argc == cap) {
			cap = cap ? cap * 2 : 16;
			if ((na = reallocarray(argv, cap, sizeof(*na))) ==
			    NULL)
				return (election_err(p, "%s", strerror(errno)));
			*argvp = argv = na;
			*capp = cap;
		}
		if (*s == '"') {
			argv[argc++] = ++s;
			while (*s != '"' && *s != '\0')
				s++;
			if (*s == '\0')
				return (election_err(p,
				    "unterminated quoted string"));
			*s++ = '\0';
			if (*s != '\0' && *s != ' ' && *s != '\t' &&
			    *s != '\r' && *s != '#')
				return (election_err(p,
				    "text after a closing quote"));
			continue;
		}
		argv[argc++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\r' &&
		    *s != '#' && *s != '"')
			s++;
		if (*s == '"')
			return (election_err(p, "quote inside a word"));
		if (*s == '#')
			*s = '\0';
		else if (*s != '\0')
			*s++ = '\0';
	}
	return (argc);
}

/* Run one line's directive through the table. */
static int
election_parse_line(struct parse *p, int argc, char **argv)
{
	const struct directive	*dir;
	size_t			 i;
	int			 n = argc - 1;

	for (i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
		if (strcmp(directives[i].name, argv[0]) == 0)
			break;
	if (i == sizeof(directives) / sizeof(directives[0]))
		return (election_err(p, "unknown directive \"%s\"", argv[0]));
	dir = &directives[i];
	if (n < dir->minargs || (dir->maxargs != -1 && n > dir->maxargs)) {
		if (dir->minargs == dir->maxargs)
			return (election_err(p,
			    "%s: needs %d argument%s, got %d",
			    dir->name, dir->minargs,
			    dir->minargs == 1 ? "" : "s", n));
		if (dir->maxargs == -1)
			return (election_err(p,
			    "%s: needs at least %d argument%s, "
			    "got %d", dir->name, dir->minargs,
			    dir->minargs == 1 ? "" : "s", n));
		return (election_err(p, "%s: needs %d to %d arguments, got %d",
		    dir->name, dir->minargs, dir->maxargs, n));
	}
	return (dir->fn(p, n, argv + 1));
}

void
election_free(struct election *el)
{
	struct paged	*pc;
	size_t		 i;
	int		 ci, k;

	if (el == NULL)
		return;
	free(el->name);
	for (i = 0; i <= ELECTION_PARTY_MAX; i++)
		free(el->party[i]);
	for (ci = 0; ci < ELECTION_NPAGED; ci++) {
		pc = &el->paged[ci];
		for (i = 0; i < pc->nd; i++)
			free(pc->d[i].name);
		free(pc->d);
		for (k = 0; k < ELECTION_NLEN; k++)
			free(pc->a[k]);
	}
	free(el);
}

struct election *
election_parse(const char *buf, size_t len, const char *file, char *errbuf,
    size_t errlen)
{
	struct parse	 p;
	const char	*s, *end = buf + len, *nl;
	char		*line = NULL, **argv = NULL, *nline;
	size_t		 n, linecap = 0;
	int		 argc, argvcap = 0, ci;

	memset(&p, 0, sizeof(p));
	p.file = file != NULL ? file : "election";
	p.errbuf = errbuf;
	p.errlen = errlen;
	if (errbuf != NULL && errlen > 0)
		*errbuf = '\0';
	if ((p.el = calloc(1, sizeof(*p.el))) == NULL) {
		election_err(&p, "%s", strerror(errno));
		return (NULL);
	}
	for (s = buf; s < end; s = nl + 1) {
		p.line++;
		if ((nl = memchr(s, '\n', end - s)) == NULL)
			nl = end;
		n = nl - s;
		if (memchr(s, '\0', n) != NULL) {
			election_err(&p, "NUL byte in line");
			goto fail;
		}
		if (n + 1 > linecap) {
			if ((nline = realloc(line, n + 1)) == NULL) {
				election_err(&p, "%s", strerror(errno));
				goto fail;
			}
			line = nline;
			linecap = n + 1;
		}
		memcpy(line, s, n);
		line[n] = '\0';
		if ((argc = election_tokenize(&p, line, &argv, &argvcap)) == -1)
			goto fail;
		if (argc > 0 && election_parse_line(&p, argc, argv) == -1)
			goto fail;
	}
	if (p.election_line == 0) {
		if (p.line == 0)
			p.line = 1;
		election_err(&p, "no election directive naming the election");
		goto fail;
	}
	for (ci = 0; ci < ELECTION_NPAGED; ci++)
		if (election_finish_paged(&p, ci) == -1)
			goto fail;
	free(line);
	free(argv);
	return (p.el);
fail:
	free(line);
	free(argv);
	election_free(p.el);
	return (NULL);
}

struct election *
election_load(const char *path, char *errbuf, size_t errlen)
{
	struct election	*el;
	struct stat	 st;
	char		*buf;
	ssize_t		 r;
	size_t		 off = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) == -1) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (NULL);
	}
	if (!S_ISREG(st.st_mode) || st.st_size > ELECTION_FILE_MAX) {
		snprintf(errbuf, errlen, "%s: not a regular file of at most "
		    "%d bytes", path, ELECTION_FILE_MAX);
		close(fd);
		return (NULL);
	}
	if ((buf = malloc(st.st_size + 1)) == NULL) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (NULL);
	}
	while (off < (size_t)st.st_size) {
		r = read(fd, buf + off, st.st_size - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(errbuf, errlen, "%s: %s", path, r == 0 ?
			    "file shrank while reading" : strerror(errno));
			free(buf);
			close(fd);
			return (NULL);
		}
		off += r;
	}
	close(fd);
	el = election_parse(buf, off, path, errbuf, errlen);
	free(buf);
	return (el);
}

/*
 * The built-in sample, freshly parsed on every call: the caller owns
 * the result and frees it with election_free().
 */
struct election *
election_default(void)
{
	struct election	*el;
	char		 err[256];

	el = election_parse(election_default_text,
	    election_default_end - election_default_text,
	    "election-2024.conf (built in)", err, sizeof(err));
	if (el == NULL)
		log_warnx("election: %s", err);
	return (el);
}

const char *
election_name(const struct election *el)
{
	return (el->name);
}

const char *
election_party_name(const struct election *el, int n)
{
	if (n < 1 || n > ELECTION_PARTY_MAX)
		return (NULL);
	return (el->party[n]);
}

/* The district of a TPS: the longest area prefix that matches. */
static const struct district *
election_find_district(const struct paged *pc, uint64_t tps)
{
	const struct area	*a;
	uint64_t		 key;
	size_t			 lo, hi, mid;
	int			 k;

	for (k = ELECTION_NLEN - 1; k >= 0; k--) {
		if ((a = pc->a[k]) == NULL)
			continue;
		key = tps / area_div[k];
		lo = 0;
		hi = pc->na[k];
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (a[mid].prefix < key)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < pc->na[k] && a[lo].prefix == key)
			return (&pc->d[a[lo].district]);
	}
	return (NULL);
}

static int
election_form_fail(enum reason *reason, enum reason r)
{
	if (reason != NULL)
		*reason = r;
	return (-1);
}

static void
election_form_summary(struct form *f, size_t n)
{
	size_t	 i;

	f->kind = FORM_SUMMARY;
	f->nchoices = n;
	f->nvalues = n + 3;
	for (i = 0; i < n; i++)
		f->choices[i] = i + 1;
}

int
election_form(const struct election *el, enum contest contest, uint64_t tps,
    int page, struct form *f, enum reason *reason)
{
	const struct district	*d;
	size_t			 n = 0, nc;
	int			 prov, ci, i;

	if (reason != NULL)
		*reason = REASON_NONE;
	f->kind = 0;
	f->nvalues = f->nchoices = 0;
	f->district = NULL;
	if (tps < 1000000000000ULL || tps > 9999999999999ULL)
		return (election_form_fail(reason, REASON_TPS_FORMAT));
	prov = tps / area_div[0];
	switch (contest) {
	case CONTEST_PPWP:
		if (page != -1)
			return (election_form_fail(reason,
			    REASON_PAGE_UNKNOWN));
		if (el->pairs <= 0)
			return (election_form_fail(reason, REASON_NOT_HELD));
		election_form_summary(f, el->pairs);
		return (0);
	case CONTEST_DPD:
		if (page != -1)
			return (election_form_fail(reason,
			    REASON_PAGE_UNKNOWN));
		if (el->dpd[prov] <= 0)
			return (election_form_fail(reason, REASON_NOT_HELD));
		election_form_summary(f, el->dpd[prov]);
		return (0);
	case CONTEST_DPR:
	case CONTEST_DPRDP:
	case CONTEST_DPRDK:
		break;
	default:
		return (election_form_fail(reason, REASON_CONTEST));
	}
	ci = election_paged_index(contest);
	if ((d = election_find_district(&el->paged[ci], tps)) == NULL)
		return (election_form_fail(reason, REASON_NOT_HELD));
	if (page == 0) {
		for (i = 1; i <= ELECTION_PARTY_MAX; i++)
			if (election_on_ballot(el, ci, d->province, i))
				f->choices[n++] = i;
		f->kind = FORM_SUMMARY;
		f->nchoices = n;
		f->nvalues = n + 3;
		f->district = d->name;
		return (0);
	}
	if (!election_on_ballot(el, ci, d->province, page))
		return (election_form_fail(reason, REASON_PAGE_UNKNOWN));
	nc = d->cand[page] == ELECTION_CAND_DEFAULT ? (size_t)d->seats :
	    d->cand[page];
	f->kind = FORM_PARTY;
	f->nchoices = nc;
	f->nvalues = nc + 1;
	for (n = 0; n < nc; n++)
		f->choices[n] = n + 1;
	f->district = d->name;
	return (0);
}
