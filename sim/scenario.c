/*
 * scenario: the SMS that simulated KPPS phones send on election night,
 * deterministic from a seed, each with the outcome the protocol gives
 * it. The outcome comes from what the officer meant and the mistake
 * made, judged by the protocol's rules as truth.c writes them down, in
 * the order the phone sends: never from the gateway's verify stage,
 * which the oracle judges. See docs/scenario.md.
 */

#include <sys/queue.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "csv.h"
#include "scenario.h"
#include "tally.h"
#include "truth.h"

#define SC_MAXPLAN	64		/* reports of one TPS */
#define SC_BIGDPD	45		/* "long" DPD ballots: candidates */
#define SC_GSM_SINGLE	160
#define SC_GSM_PART	153

/* A TPS picked for the night, with its presidential numbers. */
struct sc_tps {
	uint64_t	 tps;
	int		 prov;
	int		 ppwp[6];	/* PEMILIH, 01, 02, 03, SAH, TIDAK_SAH */
	int		 synthetic;	/* not from the real results */
};

/* One report the officer means to send. */
struct sc_plan {
	enum contest	 contest;
	int		 page;
	unsigned	 t;
	size_t		 n;
	uint16_t	 v[TALLY_MAXVALUES];
};

/* Something the officer will do at time t. */
struct sc_pend {
	unsigned	 t;
	size_t		 order;
	int		 plan;
	enum sc_kind	 kind;
	unsigned	 seq;		/* 0: take the next row */
	const struct sc_msg *msg;	/* SC_RESEND: the message sent again */
};

struct sc_rng {
	uint64_t	 s;
};

/* Everything one build needs. */
struct sc_build {
	const struct scenario_conf *conf;
	struct scenario		*sc;
	struct truth		*truth;
	struct registry		*reg;
	char			*err;
	size_t			 errlen;
};

/* Each phone's way of typing. */
struct sc_typist {
	char		 sep;		/* '*', '#', ' ', or 0: mixed */
	int		 boxes;		/* values typed as 3 digits */
};

static const char *sc_kind_names[SC_KIND_MAX] = {
	[SC_CLEAN] = "clean",
	[SC_TYPO_DIGIT] = "typo_digit",
	[SC_TYPO_SWAP] = "typo_swap",
	[SC_CODE_WRONG] = "code_wrong",
	[SC_CODE_MISSING] = "code_missing",
	[SC_VALUE_MISSING] = "value_missing",
	[SC_RESEND] = "resend",
	[SC_REFIX] = "refix",
	[SC_CORRECTION] = "correction",
	[SC_SEQ_REUSE] = "seq_reuse",
};

static const char *sc_reason_names[REASON_MAX] = {
	[REASON_NONE] = "NONE",
	[REASON_EMPTY] = "EMPTY",
	[REASON_CONTEST] = "CONTEST",
	[REASON_TPS_FORMAT] = "TPS_FORMAT",
	[REASON_SEQ] = "SEQ",
	[REASON_PAGE] = "PAGE",
	[REASON_VALUE_FORMAT] = "VALUE_FORMAT",
	[REASON_VALUE_RANGE] = "VALUE_RANGE",
	[REASON_CODE_FORMAT] = "CODE_FORMAT",
	[REASON_TOO_LONG] = "TOO_LONG",
	[REASON_COUNT] = "COUNT",
	[REASON_TPS_UNKNOWN] = "TPS_UNKNOWN",
	[REASON_NOT_HELD] = "NOT_HELD",
	[REASON_PAGE_UNKNOWN] = "PAGE_UNKNOWN",
	[REASON_NO_KEY] = "NO_KEY",
	[REASON_CODE_BAD] = "CODE_BAD",
	[REASON_LOCKED] = "LOCKED",
	[REASON_SEQ_USED] = "SEQ_USED",
	[REASON_DIGITS] = "DIGITS",
	[REASON_LIKE_PPWP] = "LIKE_PPWP",
	[REASON_SEQ_MISSING] = "SEQ_MISSING",
	[REASON_CODE_PLACE] = "CODE_PLACE",
};

/* 2024 national DPR vote shares (percent) by ballot number. */
static const double sc_party_share[25] = {
	0, 10.6, 13.2, 16.7, 15.3, 9.7, 0.6, 1.5, 8.4, 0.3, 0.7, 0.3, 7.2,
	0.3, 7.4, 2.8, 1.3, 3.9, 2.0, 1.0, 1.0, 3.0, 0.5, 0.5, 0.4,
};

/* Counting order on the night: PPWP, DPR, DPD, DPRDP, DPRDK. */
static const enum contest sc_order[] = {
	CONTEST_PPWP, CONTEST_DPR, CONTEST_DPD, CONTEST_DPRDP, CONTEST_DPRDK,
};

/* Mobile prefixes of the big Indonesian operators (after +62). */
static const char *sc_prefixes[] = {
	"811", "812", "813", "821", "822", "852", "853",	/* Telkomsel */
	"814", "815", "816", "855", "856", "857", "858",	/* Indosat */
	"817", "818", "819", "859", "877", "878",		/* XL */
	"881", "882", "883", "888",				/* Smartfren */
};

static void	scenario_error(struct sc_build *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	scenario_ussd_free(struct sc_ussd *);

static void
scenario_error(struct sc_build *b, const char *fmt, ...)
{
	va_list	 ap;

	if (b->err == NULL || b->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->err, b->errlen, fmt, ap);
	va_end(ap);
}

/* splitmix64: small, fast and the same on every platform. */
static uint64_t
scenario_rand(struct sc_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

static double
scenario_unit(struct sc_rng *r)
{
	return ((double)(scenario_rand(r) >> 11) / 9007199254740992.0);
}

/* A whole number in lo..hi, both included. */
static unsigned
scenario_range(struct sc_rng *r, unsigned lo, unsigned hi)
{
	if (hi <= lo)
		return (lo);
	return (lo + (unsigned)(scenario_rand(r) % (uint64_t)(hi - lo + 1)));
}

static int
scenario_chance(struct sc_rng *r, double p)
{
	return (p > 0 && scenario_unit(r) < p);
}

/* An independent stream for one purpose and one index. */
static void
scenario_stream(struct sc_rng *r, uint64_t seed, uint64_t what, uint64_t idx)
{
	r->s = seed ^ (what * 0xd1b54a32d192ed03ULL) ^
	    (idx * 0x8cb92ba72f3d8dd7ULL);
	(void)scenario_rand(r);
}

const char *
scenario_kind_name(enum sc_kind k)
{
	if (k >= SC_KIND_MAX)
		return ("?");
	return (sc_kind_names[k]);
}

const char *
scenario_reason_name(enum reason r)
{
	if (r >= REASON_MAX)
		return ("?");
	return (sc_reason_names[r]);
}

void
scenario_defaults(struct scenario_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->csv = "../shared/data/pilpres2024_tps.csv";
	c->desa_csv = "../shared/data/desa_tps_2024.csv";
	c->seed = 1;
	c->ntps = 100;
	c->long_share = 0.05;
	c->night = 12 * 3600;
	c->contests = (1u << CONTEST_PPWP) | (1u << CONTEST_DPR) |
	    (1u << CONTEST_DPD) | (1u << CONTEST_DPRDP) | (1u << CONTEST_DPRDK);
	c->party_pages = 2;
	c->card_share = 0.6;
	c->err.typo_digit = 0.03;
	c->err.typo_swap = 0.02;
	c->err.code_wrong = 0.03;
	c->err.code_missing = 0.01;
	c->err.value_missing = 0.02;
	c->err.resend = 0.05;
	c->err.notice = 0.9;
	c->err.seq_reuse = 0.1;
	c->err.max_bad_codes = LOCKOUT_MAX_FAILURES - 2;
	c->style.keyword = 0.3;
	c->style.lowercase = 0.2;
	c->style.zero_seq = 0.1;
	c->style.zero_value = 0.02;
	c->style.boxes = 0.15;
	c->ussd.share = 0;
	c->ussd.oneby = 0.3;
	c->ussd.wrong_key = 0.12;
	c->ussd.back = 0.08;
	c->ussd.restart = 0.04;
	c->ussd.drop = 0.05;
	c->ussd.timeout = 0.03;
	c->ussd.abandon = 0.03;
	c->ussd.retry = 0.05;
	c->epoch = 1707886800;	/* 2024-02-14 05:00 UTC, 13:00 WITA */
}

static int
scenario_tps_cmp(const void *a, const void *b)
{
	const struct sc_tps *x = a, *y = b;

	if (x->tps != y->tps)
		return (x->tps < y->tps ? -1 : 1);
	return (0);
}

/* Complete rows with every box in 0..999: what a form can carry. */
static int
scenario_load_ppwp(struct sc_build *b, struct sc_tps **out, size_t *nout)
{
	static const struct csv_column cols[] = { { "kode_tps", 1 },
	    { "pengguna_total", 1 }, { "paslon_01", 1 }, { "paslon_02", 1 },
	    { "paslon_03", 1 }, { "suara_sah", 1 }, { "suara_tidak_sah", 1 } };
	struct csv	 csv;
	const char	*f;
	char		*end;
	struct sc_tps	*v = NULL, *nv;
	size_t		 n = 0, cap = 0, nh;
	int		 c[7], i, ok, rc;

	if (csv_open(&csv, b->conf->csv) == -1 ||
	    csv_header(&csv, cols, 7, c) == -1)
		goto fail;
	nh = csv.nf;
	while ((rc = csv_read(&csv)) == 1) {
		struct sc_tps	 t;
		unsigned long	 x;

		if (csv.nf != nh)
			continue;
		memset(&t, 0, sizeof(t));
		f = csv_col(&csv, c, 0);
		t.tps = strtoull(f, &end, 10);
		if (*end != '\0' || strlen(f) != TALLY_TPS_DIGITS)
			continue;
		ok = 1;
		for (i = 1; i < 7 && ok; i++) {
			f = csv_col(&csv, c, i);
			if (*f == '\0') {
				ok = 0;
				break;
			}
			x = strtoul(f, &end, 10);
			if (*end != '\0' || x > TALLY_VALUE_MAX)
				ok = 0;
			t.ppwp[i - 1] = (int)x;
		}
		if (!ok)
			continue;
		t.prov = (int)(t.tps / 100000000000ULL);
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				scenario_error(b, "out of memory");
				goto fail;
			}
			v = nv;
		}
		v[n++] = t;
	}
	if (rc == -1)
		goto fail;
	csv_close(&csv);
	if (n == 0) {
		scenario_error(b, "%s: no complete row", b->conf->csv);
		free(v);
		return (-1);
	}
	/* File order must not matter: sort by code. */
	qsort(v, n, sizeof(*v), scenario_tps_cmp);
	*out = v;
	*nout = n;
	return (0);
fail:
	if (csv.err[0] != '\0')
		scenario_error(b, "%s:%lu: %s", b->conf->csv, csv.lineno,
		    csv.err);
	csv_close(&csv);
	free(v);
	return (-1);
}

/* Pick n of the rows, round robin over provinces, shuffled by seed. */
static int
scenario_pick(struct sc_build *b, struct sc_tps *all, size_t nall, size_t n,
    struct sc_tps *out)
{
	size_t		 start[100], count[100], taken[100], i, j, k, got = 0;
	struct sc_rng	 r;
	struct sc_tps	 tmp;
	int		 p, any;

	memset(count, 0, sizeof(count));
	memset(taken, 0, sizeof(taken));
	for (i = 0; i < nall; i++)
		count[all[i].prov]++;
	for (p = 0, k = 0; p < 100; p++) {
		start[p] = k;
		k += count[p];
	}
	scenario_stream(&r, b->conf->seed, 1, 0);
	while (got < n) {
		any = 0;
		for (p = 0; p < 100 && got < n; p++) {
			if (taken[p] >= count[p])
				continue;
			any = 1;
			/* Partial Fisher-Yates inside the province. */
			i = start[p] + taken[p];
			j = i + (size_t)(scenario_rand(&r) % (count[p] - taken[p]));
			tmp = all[i];
			all[i] = all[j];
			all[j] = tmp;
			out[got++] = all[i];
			taken[p]++;
		}
		if (!any)
			break;
	}
	if (got < n) {
		scenario_error(b, "only %zu usable TPS, %zu asked", got, n);
		return (-1);
	}
	return (0);
}

/* Synthetic PPWP numbers, for TPS outside the real data. */
static void
scenario_synth_ppwp(struct sc_rng *r, struct sc_tps *t)
{
	int	p = (int)scenario_range(r, 150, 290), ts, sah, a, c;

	ts = (int)scenario_range(r, 1, (unsigned)(p / 30 + 1));
	sah = p - ts;
	a = sah * (int)scenario_range(r, 20, 40) / 100;
	c = sah * (int)scenario_range(r, 6, 18) / 100;
	t->ppwp[0] = p;
	t->ppwp[1] = a;
	t->ppwp[2] = sah - a - c;
	t->ppwp[3] = c;
	t->ppwp[4] = sah;
	t->ppwp[5] = ts;
	t->synthetic = 1;
}

/*
 * TPS of the provinces with the longest DPD ballots (Jawa Barat...),
 * from the national TPS list: their DPD reports need concatenated SMS.
 */
static int
scenario_pick_long(struct sc_build *b, size_t n, struct sc_tps *out,
    const struct sc_tps *taken, size_t ntaken)
{
	static const struct csv_column cols[] = { { "kode_desa", 1 },
	    { "n_tps_reguler", 1 } };
	struct csv	 csv;
	struct sc_tps	*v = NULL, *nv;
	size_t		 nv_ = 0, cap = 0, got = 0, i, tries, nh;
	struct sc_rng	 r;
	struct form	 form;
	enum reason	 why;
	int		 big[100], c[2], p, rc;

	if (n == 0)
		return (0);
	for (p = 0; p < 100; p++)
		big[p] = -1;
	if (csv_open(&csv, b->conf->desa_csv) == -1 ||
	    csv_header(&csv, cols, 2, c) == -1)
		goto bad;
	nh = csv.nf;
	while ((rc = csv_read(&csv)) == 1) {
		struct sc_tps	 t;
		unsigned long	 ntps;

		if (csv.nf != nh || strlen(csv_col(&csv, c, 0)) != 10)
			continue;
		memset(&t, 0, sizeof(t));
		t.tps = strtoull(csv_col(&csv, c, 0), NULL, 10) * 1000;
		p = (int)(t.tps / 100000000000ULL);
		if (p < 11 || p > 98)
			continue;
		if (big[p] == -1)
			big[p] = election_form(b->conf->election, CONTEST_DPD,
			    t.tps + 1, -1, &form, &why) == 0 &&
			    form.nchoices >= SC_BIGDPD;
		ntps = strtoul(csv_col(&csv, c, 1), NULL, 10);
		if (!big[p] || ntps == 0 || ntps > 999)
			continue;
		t.prov = p;
		t.ppwp[0] = (int)ntps;	/* TPS in the village, for now */
		if (nv_ == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				csv_close(&csv);
				free(v);
				scenario_error(b, "out of memory");
				return (-1);
			}
			v = nv;
		}
		v[nv_++] = t;
	}
	if (rc == -1) {
		free(v);
		goto bad;
	}
	csv_close(&csv);
	if (nv_ == 0) {
		scenario_error(b,
		    "%s: no village in a province with %d or more DPD "
		    "candidates", b->conf->desa_csv, SC_BIGDPD);
		free(v);
		return (-1);
	}
	qsort(v, nv_, sizeof(*v), scenario_tps_cmp);
	scenario_stream(&r, b->conf->seed, 2, 0);
	for (tries = 0; got < n && tries < n * 100; tries++) {
		struct sc_tps	 t = v[scenario_rand(&r) % nv_];
		int		 dup = 0;

		t.tps += scenario_range(&r, 1, (unsigned)t.ppwp[0]);
		for (i = 0; i < ntaken && !dup; i++)
			dup = taken[i].tps == t.tps;
		for (i = 0; i < got && !dup; i++)
			dup = out[i].tps == t.tps;
		if (dup)
			continue;
		scenario_synth_ppwp(&r, &t);
		out[got++] = t;
	}
	free(v);
	if (got < n) {
		scenario_error(b, "%s: cannot pick %zu distinct TPS",
		    b->conf->desa_csv,
		    n);
		return (-1);
	}
	return (0);
bad:
	scenario_error(b, "%s:%lu: %s", b->conf->desa_csv, csv.lineno, csv.err);
	csv_close(&csv);
	return (-1);
}

/* Share total over n weights by largest remainder: exact, stable. */
static void
scenario_distribute(unsigned total, const double *w, size_t n, uint16_t *out)
{
	double	 sum = 0, rem[TALLY_MAXVALUES], best;
	unsigned given = 0;
	size_t	 i, k;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		sum += w[i];
	for (i = 0; i < n; i++) {
		double q = sum > 0 ? total * w[i] / sum : (double)total / n;

		out[i] = (uint16_t)floor(q);
		rem[i] = q - floor(q);
		given += out[i];
	}
	while (given < total) {
		for (k = 0, best = -1, i = 0; i < n; i++) {
			if (rem[i] > best) {
				best = rem[i];
				k = i;
			}
		}
		out[k]++;
		rem[k] = -1;
		given++;
	}
}

/* A summary form: PEMILIH, choices sharing SAH, SAH, TIDAK_SAH. */
static void
scenario_plan_summary(struct sc_rng *r, unsigned pemilih, unsigned invalid_pct,
    const double *w, size_t nch, struct sc_plan *pl)
{
	unsigned	 ts, sah;

	ts = pemilih * scenario_range(r, invalid_pct / 2, invalid_pct) / 100;
	if (ts > pemilih)
		ts = pemilih;
	sah = pemilih - ts;
	pl->n = nch + 3;
	pl->v[0] = (uint16_t)pemilih;
	scenario_distribute(sah, w, nch, pl->v + 1);
	pl->v[nch + 1] = (uint16_t)sah;
	pl->v[nch + 2] = (uint16_t)ts;
}

/* The reports one TPS means to send, in counting order, with times. */
static int
scenario_plan_tps(struct sc_build *b, struct sc_rng *r, const struct sc_tps *t,
    struct sc_plan *plans, size_t *nplans)
{
	const struct scenario_conf *c = b->conf;
	double		 w[TALLY_MAXVALUES], speed;
	struct form	 form, pf;
	enum reason	 why;
	size_t		 np = 0, nc = 0, j, i, k, p0, order[TALLY_MAXVALUES];
	unsigned	 pemilih = (unsigned)t->ppwp[0], tc;
	int		 ci, kk;

	for (ci = 0; ci < 5; ci++)
		if (c->contests & (1u << sc_order[ci]))
			nc++;
	speed = 0.55 + 0.45 * scenario_unit(r);
	for (ci = 0, j = 0; ci < 5; ci++) {
		enum contest	 ct = sc_order[ci];
		int		 paged = decode_contest_paged(ct);

		if ((c->contests & (1u << ct)) == 0)
			continue;
		tc = (unsigned)(c->night * speed * (j + 0.6 + 0.4 *
		    scenario_unit(r)) / nc);
		j++;
		if (election_form(c->election, ct, t->tps, paged ? 0 : -1,
		    &form, &why) == -1)
			continue;	/* not held here */
		if (np >= SC_MAXPLAN)
			break;
		struct sc_plan *pl = &plans[np++];
		memset(pl, 0, sizeof(*pl));
		pl->contest = ct;
		pl->page = paged ? 0 : -1;
		pl->t = tc;
		if (ct == CONTEST_PPWP) {
			pl->n = form.nvalues;
			for (i = 0; i < pl->n && i < 6; i++)
				pl->v[i] = (uint16_t)t->ppwp[i];
			if (form.nvalues != 6) {
				/* Not the 2024 shape: spread like DPD. */
				for (i = 0; i < form.nchoices; i++)
					w[i] = 1 + scenario_unit(r) * 3;
				scenario_plan_summary(r, pemilih, 3, w,
				    form.nchoices, pl);
			}
			continue;
		}
		if (ct == CONTEST_DPD) {
			/* A few popular candidates, a long tail. */
			for (i = 0; i < form.nchoices; i++)
				w[i] = pow(scenario_unit(r), 2) * 8 + 0.5;
			scenario_plan_summary(r, pemilih, 8, w, form.nchoices,
			    pl);
			continue;
		}
		for (i = 0; i < form.nchoices; i++) {
			int	 pn = form.choices[i];
			double	 base = pn < 25 ? sc_party_share[pn] : 0.5;
			double	 m = 0.3 + 1.4 * scenario_unit(r);

			w[i] = base * m * m + 0.05;
		}
		scenario_plan_summary(r, pemilih, 10, w, form.nchoices, pl);
		p0 = np - 1;
		/* The K parties with the most votes, ties by ballot number. */
		for (i = 0; i < form.nchoices; i++)
			order[i] = i;
		for (i = 0; i < form.nchoices; i++)
			for (k = i + 1; k < form.nchoices; k++)
				if (pl->v[1 + order[k]] >
				    pl->v[1 + order[i]]) {
					size_t x = order[i];

					order[i] = order[k];
					order[k] = x;
				}
		tc = pl->t;
		for (kk = 0; kk < c->party_pages &&
		    (size_t)kk < form.nchoices && np < SC_MAXPLAN; kk++) {
			size_t		 col = order[kk];
			int		 party = form.choices[col];
			unsigned	 total = plans[p0].v[1 + col];
			struct sc_plan	*pp;
			unsigned	 partai;

			if (election_form(c->election, ct, t->tps, party, &pf,
			    &why) == -1)
				continue;
			pp = &plans[np++];
			memset(pp, 0, sizeof(*pp));
			pp->contest = ct;
			pp->page = party;
			tc += scenario_range(r, 60, 180);
			pp->t = tc;
			pp->n = pf.nvalues;
			partai = pf.nchoices == 0 ? total :
			    total * scenario_range(r, 10, 35) / 100;
			pp->v[0] = (uint16_t)partai;
			for (i = 0; i < pf.nchoices; i++)
				w[i] = (1 + 2 * scenario_unit(r)) / pow(i + 1,
				    0.7);
			scenario_distribute(total - partai, w, pf.nchoices,
			    pp->v + 1);
		}
	}
	*nplans = np;
	return (0);
}

/* Spell a number the way this officer might. */
static int
scenario_put_num(char *buf, size_t len, unsigned v, int width)
{
	return (snprintf(buf, len, "%0*u", width, v));
}

/* Render a report as typed: separators, keyword or digit, zeros. */
static int
scenario_render(struct sc_rng *r, const struct scenario_conf *c,
    const struct sc_typist *ty, enum contest ct, uint64_t tps, unsigned seq,
    int page, const uint16_t *v, size_t n, const char *code, char *out,
    size_t len)
{
	char	 tok[TALLY_MAXTOKENS + 2][24];
	size_t	 nt = 0, i, off = 0;
	int	 w;

	if (scenario_chance(r, c->style.keyword)) {
		snprintf(tok[nt], sizeof(tok[nt]), "%s",
		    decode_contest_name(ct));
		if (scenario_chance(r, c->style.lowercase))
			for (i = 0; tok[nt][i] != '\0'; i++)
				tok[nt][i] = (char)(tok[nt][i] - 'A' + 'a');
	} else
		snprintf(tok[nt], sizeof(tok[nt]), "%s%d",
		    scenario_chance(r, c->style.zero_seq / 2) ? "0" : "",
		        (int)ct);
	nt++;
	snprintf(tok[nt++], sizeof(tok[0]), "%013llu", (unsigned long long)tps);
	scenario_put_num(tok[nt++], sizeof(tok[0]), seq,
	    scenario_chance(r, c->style.zero_seq) ? (seq < 10 ? 2 : 4) : 1);
	if (page >= 0)
		scenario_put_num(tok[nt++], sizeof(tok[0]), (unsigned)page,
		    scenario_chance(r, c->style.zero_seq) ? 2 : 1);
	for (i = 0; i < n; i++) {
		w = ty->boxes ? 3 : 1;
		if (!ty->boxes && scenario_chance(r, c->style.zero_value))
			w = 3;
		scenario_put_num(tok[nt++], sizeof(tok[0]), v[i], w);
	}
	if (code != NULL)
		snprintf(tok[nt++], sizeof(tok[0]), "%s", code);
	for (i = 0; i < nt; i++) {
		char sep = ty->sep;

		if (sep == 0)
			sep = "*# "[scenario_rand(r) % 3];
		w = snprintf(out + off, len - off, "%s%s", i ? (char[2]){ sep,
		    0 } : "", tok[i]);
		if (w < 0 || (size_t)w >= len - off)
			return (-1);
		off += (size_t)w;
	}
	return (0);
}

/*
 * The code the officer copies: card row SEQ, or the helper's MAC over
 * the canonical text of what was typed (docs/protocol.md, 7a), whatever
 * it says.
 */
static int
scenario_code(struct sc_build *b, enum sc_mode mode, const struct sc_msg *m,
    const uint16_t *v, size_t n, char code[TALLY_CODE_LEN + 1])
{
	uint8_t	 kt[TALLY_KEY_LEN];
	char	 canon[TALLY_CANON_MAX];

	if (key_derive_tps(b->conf->key, m->tps, kt) == -1) {
		scenario_error(b, "no key for TPS %013llu",
		    (unsigned long long)m->tps);
		return (-1);
	}
	if (mode == SC_MODE_CARD)
		key_card(kt, m->seq, code);
	else if (truth_canon(m->contest, m->tps, m->seq, m->page, v, n,
	    canon, sizeof(canon)) == 0)
		key_mac(kt, canon, code);
	else {
		key_wipe(kt, sizeof(kt));
		scenario_error(b, "no canonical text for TPS %013llu SEQ %u",
		    (unsigned long long)m->tps, m->seq);
		return (-1);
	}
	key_wipe(kt, sizeof(kt));
	return (0);
}

static size_t
scenario_parts(size_t len)
{
	if (len <= SC_GSM_SINGLE)
		return (1);
	return ((len + SC_GSM_PART - 1) / SC_GSM_PART);
}

static void
scenario_msg_free(struct sc_msg *m)
{
	if (m == NULL)
		return;
	scenario_ussd_free(m->ussd);
	free(m->text);
	free(m->expect.values);
	free(m->expect.canon);
	free(m);
}

/* What the officer meant and the one mistake made, as truth.c reads it. */
static void
scenario_intent(const struct sc_msg *m, const uint16_t *meant, size_t n,
    time_t epoch, struct truth_msg *tm)
{
	memset(tm, 0, sizeof(*tm));
	tm->sender = m->phone->msisdn;
	tm->tps = m->tps;
	tm->contest = m->contest;
	tm->page = m->page;
	tm->seq = m->seq;
	tm->meant = meant;
	tm->nmeant = n;
	tm->slip = m->slip;
	tm->k = m->slipk;
	tm->typed = m->sliptyped;
	tm->mode = m->phone->mode == SC_MODE_CARD ? AUTH_CARD : AUTH_MAC;
	tm->at = epoch + (time_t)scenario_sent_at(m);
}

/* The protocol's outcome for a message, from its intent and mistake. */
static int
scenario_expect(struct sc_build *b, struct sc_msg *m, const struct sc_plan *pl)
{
	struct truth_msg	 tm;
	struct truth_expect	 te;
	struct sc_expect	*x = &m->expect;

	scenario_intent(m, pl->v, pl->n, b->conf->epoch, &tm);
	if (truth_judge(b->truth, &tm, &te) == -1) {
		scenario_error(b, "no expected outcome for '%s'", m->text);
		return (-1);
	}
	x->verdict = te.verdict;
	x->reason = te.reason;
	x->flags = te.flags;
	x->auth = te.auth;
	x->supersedes = te.supersedes;
	x->forward = te.verdict == VERDICT_OK || te.verdict == VERDICT_FLAGGED;
	memcpy(x->receipt, te.receipt, sizeof(x->receipt));
	memcpy(x->quoted, te.quoted, sizeof(x->quoted));
	if (te.decoded) {
		if ((x->canon = strdup(te.canon)) == NULL ||
		    (x->values = calloc(te.nvalues + 1,
		    sizeof(*x->values))) == NULL) {
			scenario_error(b, "out of memory");
			return (-1);
		}
		x->nvalues = te.nvalues;
		memcpy(x->values, te.values, te.nvalues * sizeof(*x->values));
	}
	return (0);
}

/*
 * Change one digit of a value, or swap two; keeps it within 0..999.
 * Returns the value changed, or -1.
 */
static int
scenario_typo(struct sc_rng *r, struct sc_plan *pl, uint16_t *v, int swap)
{
	char	 d[8];
	size_t	 i, tries, len;
	char	 x;

	memcpy(v, pl->v, pl->n * sizeof(*v));
	for (tries = 0; tries < 20; tries++) {
		i = scenario_rand(r) % pl->n;
		len = (size_t)snprintf(d, sizeof(d), "%u", v[i]);
		if (swap) {
			size_t k;

			if (len < 2)
				continue;
			k = scenario_rand(r) % (len - 1);
			if (d[k] == d[k + 1])
				continue;
			x = d[k];
			d[k] = d[k + 1];
			d[k + 1] = x;
		} else {
			size_t k = scenario_rand(r) % len;

			d[k] = (char)('0' + (d[k] - '0' + 1 + (int)(scenario_rand(r) %
			    9)) % 10);
		}
		v[i] = (uint16_t)strtoul(d, NULL, 10);
		if (v[i] != pl->v[i])
			return ((int)i);
	}
	return (-1);
}

/* What an input of a USSD session answers. */
enum sc_step {
	SC_ST_CONTEST = 0,
	SC_ST_TPS,
	SC_ST_PAGE,
	SC_ST_VALUE,
	SC_ST_SEQ,
	SC_ST_CODE,
	SC_ST_REVIEW,
	SC_ST_NAV,		/* 0, #, 00: back or to the start */
	SC_ST_MAX
};

#define SC_SCRIPT_MAX	64	/* inputs of one report, slips included */
#define SC_ONEBY_MAX	12	/* values typed one per screen, at most */
#define SC_SESSION_SEC	150	/* an officer's typing in one session */

/* A USSD report's inputs as the officer types them, being built. */
struct sc_script {
	char		*in[SC_SCRIPT_MAX];
	unsigned	 think[SC_SCRIPT_MAX];
	size_t		 n;
	int		 tps;		/* the last TPS input, typed right */
	int		 wrong;		/* the wrong key, or -1 */
	int		 fail;
};

/* Where a slip goes, decided before the typing. */
struct sc_slipat {
	enum sc_slip	 slip;
	enum sc_step	 step;		/* SC_SLIP_KEY, SC_SLIP_BACK */
	size_t		 value;		/* the value it is on */
};

static const char *sc_end_names[SC_END_MAX] = {
	[SC_END_SUBMIT] = "submit",
	[SC_END_DROP] = "drop",
	[SC_END_TIMEOUT] = "timeout",
	[SC_END_ABANDON] = "abandon",
};

static const char *sc_slip_names[SC_SLIP_MAX] = {
	[SC_SLIP_NONE] = "none",
	[SC_SLIP_KEY] = "wrong_key",
	[SC_SLIP_BACK] = "back",
	[SC_SLIP_START] = "restart",
};

const char *
scenario_end_name(enum sc_end e)
{
	return (e < SC_END_MAX ? sc_end_names[e] : "?");
}

const char *
scenario_slip_name(enum sc_slip s)
{
	return (s < SC_SLIP_MAX ? sc_slip_names[s] : "?");
}

/* When a message reaches the gateway: a USSD report at its 1 KIRIM. */
unsigned
scenario_sent_at(const struct sc_msg *m)
{
	return (m->ussd != NULL ? m->ussd->sent : m->t);
}

/* Seconds an officer takes for one input of this kind. */
static unsigned
scenario_think(struct sc_rng *r, enum sc_step st, size_t nvalues)
{
	unsigned	 t;

	switch (st) {
	case SC_ST_TPS:
		return (scenario_range(r, 8, 20));	/* 13 digits, copied */
	case SC_ST_VALUE:
		if (nvalues <= 1)
			return (scenario_range(r, 2, 6));
		t = 4 + (unsigned)nvalues * scenario_range(r, 4, 8) / 4;
		return (t > SC_USSD_WAIT_SEC - 5 ? SC_USSD_WAIT_SEC - 5 : t);
	case SC_ST_SEQ:
		return (scenario_range(r, 3, 8));
	case SC_ST_CODE:
		return (scenario_range(r, 5, 12));
	default:
		return (scenario_range(r, 2, 5));
	}
}

/* One more input of the script. */
static void
scenario_key(struct sc_script *s, struct sc_rng *r, enum sc_step st,
    size_t nvalues, const char *fmt, ...)
{
	va_list	 ap;
	char	*p;

	if (s->fail)
		return;
	va_start(ap, fmt);
	if (s->n == SC_SCRIPT_MAX || vasprintf(&p, fmt, ap) == -1) {
		s->fail = 1;
		va_end(ap);
		return;
	}
	va_end(ap);
	s->think[s->n] = scenario_think(r, st, nvalues);
	s->in[s->n++] = p;
}

/* Values from..to-1 joined by '*', one input. */
static void
scenario_key_values(struct sc_script *s, struct sc_rng *r,
    const uint16_t *v, size_t from, size_t to)
{
	char	 buf[TALLY_MAXVALUES * 4 + 1];
	size_t	 i, off = 0;

	for (i = from; i < to; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%u",
		    i > from ? "*" : "", v[i]);
	scenario_key(s, r, SC_ST_VALUE, to - from, "%s", buf);
}

/* The wrong key of a KEY slip, if the slip is on this step. */
static void
scenario_wrong(struct sc_script *s, struct sc_rng *r,
    const struct sc_slipat *at, enum sc_step st, const char *text)
{
	if (at == NULL || at->slip != SC_SLIP_KEY || at->step != st)
		return;
	s->wrong = (int)s->n;
	scenario_key(s, r, st, 1, "%s", text);
}

/* A BACK slip on this step: a wrong answer, then back (nav). */
static void
scenario_back(struct sc_script *s, struct sc_rng *r,
    const struct sc_slipat *at, enum sc_step st, unsigned wrong,
    const char *nav)
{
	if (at == NULL || at->slip != SC_SLIP_BACK || at->step != st)
		return;
	scenario_key(s, r, st, 1, "%u", wrong);
	scenario_key(s, r, SC_ST_NAV, 1, "%s", nav);
}

/*
 * One pass through the menu (docs/ussd.md): contest, TPS, page, the
 * values (the first `by' one per screen, the rest in one input), SEQ,
 * code; the slip `at' (or NULL) where it falls.
 */
static void
scenario_pass(struct sc_script *s, struct sc_rng *r, const struct report *rep,
    const uint16_t *v, size_t by, const struct sc_slipat *at)
{
	size_t	 i, wv = at != NULL ? at->value : SIZE_MAX;
	char	 wrong[24];

	snprintf(wrong, sizeof(wrong), "%u", scenario_range(r, 6, 8));
	scenario_wrong(s, r, at, SC_ST_CONTEST, wrong);
	scenario_back(s, r, at, SC_ST_CONTEST, rep->contest % 5 + 1, "0");
	scenario_key(s, r, SC_ST_CONTEST, 1, "%d", rep->contest);
	snprintf(wrong, sizeof(wrong), "%012llu",
	    (unsigned long long)rep->tps / 10);
	scenario_wrong(s, r, at, SC_ST_TPS, wrong);
	s->tps = (int)s->n;
	scenario_key(s, r, SC_ST_TPS, 1, "%013llu",
	    (unsigned long long)rep->tps);
	if (rep->page >= 0) {
		scenario_wrong(s, r, at, SC_ST_PAGE, "100");
		scenario_key(s, r, SC_ST_PAGE, 1, "%d", rep->page);
	}
	for (i = 0; i < rep->nvalues; i++) {
		if (i == wv) {
			scenario_wrong(s, r, at, SC_ST_VALUE, "1000");
			/* After the last value the SEQ screen: 0 is back. */
			scenario_back(s, r, at, SC_ST_VALUE, (v[i] + 1u) %
			    1000u, i + 1 == rep->nvalues ? "0" : "#");
		}
		if (i >= by) {
			scenario_key_values(s, r, v, i, rep->nvalues);
			break;
		}
		scenario_key(s, r, SC_ST_VALUE, 1, "%u", v[i]);
	}
	scenario_wrong(s, r, at, SC_ST_SEQ, "10000");
	scenario_back(s, r, at, SC_ST_SEQ, rep->seq < TALLY_SEQ_MAX ?
	    rep->seq + 1 : rep->seq - 1, "0");
	scenario_key(s, r, SC_ST_SEQ, 1, "%u", rep->seq);
	snprintf(wrong, sizeof(wrong), "%.7s", rep->code);
	scenario_wrong(s, r, at, SC_ST_CODE, wrong);
	scenario_key(s, r, SC_ST_CODE, 1, "%s", rep->code);
	scenario_wrong(s, r, at, SC_ST_REVIEW, "2");
}

static void
scenario_session_free(struct sc_session *ss)
{
	size_t	 i;

	for (i = 0; i < ss->ninputs; i++)
		free(ss->inputs[i]);
	free(ss->inputs);
	free(ss->think);
	memset(ss, 0, sizeof(*ss));
}

static void
scenario_ussd_free(struct sc_ussd *u)
{
	size_t	 k;

	if (u == NULL)
		return;
	for (k = 0; k < u->nsessions; k++)
		scenario_session_free(&u->sessions[k]);
	free(u);
}

/*
 * A session typing inputs from..to-1 of the script, after a "9" that
 * takes up the kept report if resume. Its typing is kept within what
 * a network allows a session. Returns its seconds of typing, or -1.
 */
static int
scenario_session(struct sc_session *ss, const struct sc_script *s,
    struct sc_rng *r, size_t from, size_t to, int resume)
{
	size_t		 i, n = to - from + (resume ? 1 : 0);
	unsigned	 sum = 0;

	if ((ss->inputs = calloc(n + 1, sizeof(*ss->inputs))) == NULL ||
	    (ss->think = calloc(n + 1, sizeof(*ss->think))) == NULL)
		return (-1);
	ss->resume = resume;
	ss->wrong = -1;
	if (resume) {
		if ((ss->inputs[0] = strdup("9")) == NULL)
			return (-1);
		ss->think[0] = scenario_think(r, SC_ST_CONTEST, 1);
		ss->ninputs = 1;
	}
	for (i = from; i < to; i++) {
		if (s->wrong == (int)i)
			ss->wrong = (int)ss->ninputs;
		if ((ss->inputs[ss->ninputs] = strdup(s->in[i])) == NULL)
			return (-1);
		ss->think[ss->ninputs++] = s->think[i];
	}
	for (i = 0; i < ss->ninputs; i++)
		sum += ss->think[i];
	if (sum > SC_SESSION_SEC) {
		unsigned total = sum;

		for (i = 0, sum = 0; i < ss->ninputs; i++) {
			ss->think[i] = ss->think[i] * SC_SESSION_SEC / total;
			if (ss->think[i] == 0)
				ss->think[i] = 1;
			sum += ss->think[i];
		}
	}
	return ((int)sum);
}

/* Which slip, on which step and value; by values go one per screen. */
static void
scenario_slip(struct sc_rng *r, const struct scenario_conf *c,
    const struct report *rep, size_t by, struct sc_slipat *at)
{
	double	 x = scenario_unit(r);
	size_t	 n = rep->nvalues;

	memset(at, 0, sizeof(*at));
	at->value = SIZE_MAX;
	if ((x -= c->ussd.wrong_key) < 0) {
		at->slip = SC_SLIP_KEY;
		at->step = (enum sc_step)scenario_range(r, SC_ST_CONTEST,
		    SC_ST_REVIEW);
		if (at->step == SC_ST_PAGE && rep->page < 0)
			at->step = SC_ST_VALUE;
		if (at->step == SC_ST_VALUE)	/* or the rest, in one */
			at->value = scenario_range(r, 0, (unsigned)(by < n ?
			    by : n - 1));
	} else if ((x -= c->ussd.back) < 0) {
		at->slip = SC_SLIP_BACK;
		switch (scenario_range(r, 0, by > 0 ? 2 : 1)) {
		case 0:
			at->step = SC_ST_CONTEST;
			break;
		case 1:
			at->step = SC_ST_SEQ;
			break;
		default:
			at->step = SC_ST_VALUE;	/* one typed on its own */
			at->value = scenario_range(r, 0, (unsigned)(by < n ?
			    by : n) - 1);
			break;
		}
	} else if ((x -= c->ussd.restart) < 0)
		at->slip = SC_SLIP_START;
}

/*
 * The sessions of a report sent by USSD (docs/scenario.md): one pass
 * through the menu with at most one slip, in one session, or cut by a
 * dropped line, a timeout or an abandon and finished in a second.
 * m->text is the report as the menu hands it on; m->t the first dial.
 */
static int
scenario_ussd(struct sc_rng *r, const struct scenario_conf *c,
    struct sc_msg *m)
{
	struct report		 rep;
	struct decode_error	 e;
	struct sc_script	 s;
	struct sc_slipat	 at;
	struct sc_ussd		*u = NULL;
	struct sc_session	*ss;
	uint16_t		 alt[TALLY_MAXVALUES];
	size_t			 by = 0, i, d;
	enum sc_end		 cut = SC_END_SUBMIT;
	double			 x;
	int			 secs, rc = -1;

	memset(&s, 0, sizeof(s));
	s.wrong = -1;
	if (decode_report(m->text, strlen(m->text), &rep, &e) == -1 ||
	    rep.nvalues == 0)
		return (-1);
	if (rep.nvalues <= SC_ONEBY_MAX && scenario_chance(r, c->ussd.oneby))
		by = rep.nvalues;
	else if (scenario_chance(r, c->ussd.oneby / 3))
		by = scenario_range(r, 1, 3);	/* then the rest in one */
	if (by > rep.nvalues)
		by = rep.nvalues;
	scenario_slip(r, c, &rep, by, &at);
	if (at.slip == SC_SLIP_START) {
		/* A number typed wrong, seen on review: 00, all again. */
		memcpy(alt, rep.values, rep.nvalues * sizeof(*alt));
		i = scenario_rand(r) % rep.nvalues;
		alt[i] = (uint16_t)((alt[i] + 1u) % 1000u);
		scenario_pass(&s, r, &rep, alt, by, NULL);
		scenario_key(&s, r, SC_ST_NAV, 1, "00");
	}
	scenario_pass(&s, r, &rep, rep.values, by, &at);
	if (s.fail || (u = calloc(1, sizeof(*u))) == NULL)
		goto out;
	u->slip = at.slip;
	x = scenario_unit(r);
	if ((x -= c->ussd.drop) < 0)
		cut = SC_END_DROP;
	else if ((x -= c->ussd.timeout) < 0)
		cut = SC_END_TIMEOUT;
	else if ((x -= c->ussd.abandon) < 0)
		cut = SC_END_ABANDON;
	u->sent = m->t;
	if (cut != SC_END_SUBMIT) {
		/* Cut once the TPS is in: the gateway keeps the report. */
		d = scenario_range(r, (unsigned)s.tps, (unsigned)s.n - 1);
		ss = &u->sessions[u->nsessions++];
		ss->end = cut;
		if ((secs = scenario_session(ss, &s, r, 0, d + 1, 0)) == -1)
			goto out;
		u->sent += (unsigned)secs;
		ss = &u->sessions[u->nsessions++];
		if (cut == SC_END_ABANDON) {
			ss->gap = scenario_range(r, 600, 2400);
			secs = scenario_session(ss, &s, r, 0, s.n, 0);
		} else {
			ss->gap = cut == SC_END_DROP ? scenario_range(r, 20,
			    120) : SC_USSD_WAIT_SEC + scenario_range(r, 10, 60);
			secs = scenario_session(ss, &s, r, d + 1, s.n, 1);
		}
	} else {
		ss = &u->sessions[u->nsessions++];
		secs = scenario_session(ss, &s, r, 0, s.n, 0);
	}
	if (secs == -1)
		goto out;
	ss->end = SC_END_SUBMIT;
	ss->retry = scenario_chance(r, c->ussd.retry);
	/* Typing, the gap before it, about 7 values a review screen. */
	u->sent += ss->gap + (unsigned)secs + SC_USSD_CONFIRM_SEC *
	    (unsigned)(rep.nvalues / 7 + 1);
	m->ussd = u;
	u = NULL;
	rc = 0;
out:
	for (i = 0; i < s.n; i++)
		free(s.in[i]);
	scenario_ussd_free(u);
	return (rc);
}

/* The report as the USSD menu hands it on (menu.c): digits and '*'. */
static int
scenario_render_menu(enum contest ct, uint64_t tps, unsigned seq, int page,
    const uint16_t *v, size_t n, char *out, size_t len)
{
	size_t	 i, off;

	off = (size_t)snprintf(out, len, "%d*%013llu*%u", (int)ct,
	    (unsigned long long)tps, seq);
	if (page >= 0 && off < len)
		off += (size_t)snprintf(out + off, len - off, "*%d", page);
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "*%u", v[i]);
	return (off < len ? 0 : -1);
}

/* One TPS's night as it is built: the officer, the plans, what is due. */
struct sc_night {
	struct sc_build	*b;
	struct sc_phone	*ph;
	struct sc_typist ty;
	struct sc_rng	 r;
	struct sc_plan	 plans[SC_MAXPLAN];
	size_t		 nplans;
	struct sc_pend	*q;		/* what is due, in no order */
	size_t		 nq, cap, order;
	unsigned	 nextseq, badcodes;
};

/* Something the officer will do at t. */
static struct sc_pend *
scenario_later(struct sc_night *nt, unsigned t, int plan, enum sc_kind kind,
    unsigned seq)
{
	struct sc_pend	*nv, *it;

	if (nt->nq == nt->cap) {
		nt->cap = nt->cap ? nt->cap * 2 : 32;
		if ((nv = reallocarray(nt->q, nt->cap, sizeof(*nv))) == NULL) {
			scenario_error(nt->b, "out of memory");
			return (NULL);
		}
		nt->q = nv;
	}
	it = &nt->q[nt->nq++];
	memset(it, 0, sizeof(*it));
	it->t = t;
	it->order = nt->order++;
	it->plan = plan;
	it->kind = kind;
	it->seq = seq;
	return (it);
}

/*
 * The officer's message for a step: its SEQ, the mistake of a first
 * attempt, the text as typed (or the exact text again for a resend),
 * and the USSD sessions that send it. NULL on error.
 */
static struct sc_msg *
scenario_compose(struct sc_night *nt, const struct sc_pend *p)
{
	const struct scenario_conf *c = nt->b->conf;
	struct sc_plan	*pl = &nt->plans[p->plan];
	struct sc_msg	*m;
	uint16_t	 v[TALLY_MAXVALUES];
	char		 text[2048], code[TALLY_CODE_LEN + 1];
	size_t		 n;
	int		 omit = -1, nocode = 0, badcode = 0, typo, k;
	double		 u;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		scenario_error(nt->b, "out of memory");
		return (NULL);
	}
	m->phone = nt->ph;
	m->tps = nt->ph->tps;
	m->contest = pl->contest;
	m->page = pl->page;
	m->t = p->t;
	m->kind = p->kind;
	m->seq = p->seq != 0 ? p->seq : nt->nextseq++;
	n = pl->n;
	memcpy(v, pl->v, n * sizeof(*v));
	if (p->kind == SC_RESEND) {
		/* The same text: the same mistake, if any. */
		if ((m->text = strdup(p->msg->text)) == NULL)
			goto oom;
		memcpy(m->code, p->msg->code, sizeof(m->code));
		m->slip = p->msg->slip;
		m->slipk = p->msg->slipk;
		m->sliptyped = p->msg->sliptyped;
	} else {
		if (p->kind == SC_CLEAN) {
			/* The first attempt: maybe a mistake. */
			u = scenario_unit(&nt->r);
			if ((u -= c->err.typo_digit) < 0)
				m->kind = SC_TYPO_DIGIT;
			else if ((u -= c->err.typo_swap) < 0)
				m->kind = SC_TYPO_SWAP;
			else if ((u -= c->err.code_wrong) < 0)
				m->kind = SC_CODE_WRONG;
			else if ((u -= c->err.code_missing) < 0)
				m->kind = SC_CODE_MISSING;
			else if ((u -= c->err.value_missing) < 0)
				m->kind = SC_VALUE_MISSING;
		}
		/* The menu asks for every value and the code. */
		if (nt->ph->ussd && (m->kind == SC_CODE_MISSING ||
		    m->kind == SC_VALUE_MISSING))
			m->kind = SC_CLEAN;
		switch (m->kind) {
		case SC_TYPO_DIGIT:
		case SC_TYPO_SWAP:
			if ((typo = scenario_typo(&nt->r, pl, v, m->kind ==
			    SC_TYPO_SWAP)) == -1)
				m->kind = SC_CLEAN;
			else {
				m->slip = TRUTH_TYPO;
				m->slipk = (size_t)typo;
				m->sliptyped = v[typo];
			}
			break;
		case SC_CODE_WRONG:
			if (nt->badcodes >= (unsigned)c->err.max_bad_codes)
				m->kind = SC_CLEAN;
			else {
				nt->badcodes++;
				badcode = 1;
				m->slip = TRUTH_CODE_WRONG;
			}
			break;
		case SC_CODE_MISSING:
			nocode = 1;
			m->slip = TRUTH_CODE_MISSING;
			break;
		case SC_VALUE_MISSING:
			if (n > 1) {
				omit = (int)(scenario_rand(&nt->r) % n);
				m->slip = TRUTH_VALUE_MISSING;
				m->slipk = (size_t)omit;
			} else
				m->kind = SC_CLEAN;
			break;
		default:
			break;
		}
		if (omit >= 0) {
			memmove(v + omit, v + omit + 1, (n - (size_t)omit - 1) *
			    sizeof(*v));
			n--;
		}
		if ((nt->ph->ussd ? scenario_render_menu(m->contest, m->tps,
		    m->seq, m->page, v, n, text, sizeof(text)) :
		    scenario_render(&nt->r, c, &nt->ty, m->contest, m->tps,
		    m->seq, m->page, v, n, NULL, text, sizeof(text))) == -1 ||
		    scenario_code(nt->b, nt->ph->mode, m, v, n, code) == -1)
			goto fail;
		if (badcode) {
			k = (int)(scenario_rand(&nt->r) % TALLY_CODE_LEN);
			code[k] = (char)('0' + (code[k] - '0' + 1 +
			    (int)(scenario_rand(&nt->r) % 9)) % 10);
		}
		/* Re-render with the code, same choices of style. */
		if (!nocode) {
			size_t l = strlen(text);
			char sep = nt->ph->ussd ? '*' : nt->ty.sep ?
			    nt->ty.sep : "*# "[scenario_rand(&nt->r) % 3];

			if (l + 2 + TALLY_CODE_LEN >= sizeof(text))
				goto fail;
			text[l] = sep;
			memcpy(text + l + 1, code, TALLY_CODE_LEN + 1);
		}
		memcpy(m->code, nocode ? "" : code, nocode ? 1 :
		    sizeof(m->code));
		if ((m->text = strdup(text)) == NULL)
			goto oom;
	}
	if (nt->ph->ussd) {
		if (scenario_ussd(&nt->r, c, m) == -1) {
			scenario_error(nt->b, "no USSD session for '%s'",
			    m->text);
			goto fail;
		}
	} else
		m->parts = scenario_parts(strlen(m->text));
	return (m);
oom:
	scenario_error(nt->b, "out of memory");
fail:
	scenario_msg_free(m);
	return (NULL);
}

/*
 * A message is sent: its expected outcome, then what the officer does
 * about the reply (a fix, a correction, a resend).
 */
static int
scenario_arrive(struct sc_night *nt, struct sc_msg *m, int plan)
{
	const struct scenario_conf *c = nt->b->conf;
	unsigned	 sent = scenario_sent_at(m);
	struct sc_pend	*it;
	int		 reuse;

	if (scenario_expect(nt->b, m, &nt->plans[plan]) == -1)
		return (-1);
	if (m->expect.verdict == VERDICT_REJECTED) {
		if (m->kind == SC_SEQ_REUSE)
			return (scenario_later(nt, sent + scenario_range(&nt->r,
			    60, 300), plan, SC_CORRECTION, 0) == NULL ? -1 : 0);
		if (m->kind == SC_CODE_WRONG || m->kind == SC_CODE_MISSING ||
		    m->kind == SC_VALUE_MISSING)
			return (scenario_later(nt, sent + scenario_range(&nt->r,
			    60, 300), plan, SC_REFIX, m->seq) == NULL ? -1 : 0);
		return (0);
	}
	if (m->expect.verdict == VERDICT_DUPLICATE)
		return (0);
	if ((m->kind == SC_TYPO_DIGIT || m->kind == SC_TYPO_SWAP) &&
	    (m->expect.verdict == VERDICT_FLAGGED ||
	    scenario_chance(&nt->r, c->err.notice))) {
		reuse = scenario_chance(&nt->r, c->err.seq_reuse);
		if (scenario_later(nt, sent + scenario_range(&nt->r, 300,
		    1800), plan, reuse ? SC_SEQ_REUSE : SC_CORRECTION, reuse ?
		    m->seq : 0) == NULL)
			return (-1);
	}
	if (scenario_chance(&nt->r, c->err.resend)) {
		if ((it = scenario_later(nt, sent + scenario_range(&nt->r, 120,
		    900), plan, SC_RESEND, m->seq)) == NULL)
			return (-1);
		it->msg = m;
	}
	return (0);
}

/*
 * One TPS's night: the planned reports and every follow-up (resend,
 * fix after a rejection, correction), in the order the officer acts,
 * each judged as it is sent. That is the order the gateway receives
 * them in: a USSD officer's reports too, since the dialer plays them
 * one at a time in this order (dial.c), also when a report's sessions
 * last past the time the next one was due.
 */
static int
scenario_night(struct sc_build *b, struct sc_phone *ph, const struct sc_tps *t)
{
	const struct scenario_conf *c = b->conf;
	struct sc_night	*nt;
	struct sc_pend	 p;
	struct sc_msg	*m;
	size_t		 i, best;
	int		 rc = -1, k;

	if ((nt = calloc(1, sizeof(*nt))) == NULL) {
		scenario_error(b, "out of memory");
		return (-1);
	}
	nt->b = b;
	nt->ph = ph;
	nt->nextseq = 1;
	/* Its own stream: the SMS phones' nights do not depend on it. */
	scenario_stream(&nt->r, c->seed, 4, t->tps);
	ph->ussd = scenario_chance(&nt->r, c->ussd.share);
	scenario_stream(&nt->r, c->seed, 3, t->tps);
	ph->mode = scenario_chance(&nt->r,
	    c->card_share) ? SC_MODE_CARD : SC_MODE_MAC;
	k = (int)scenario_range(&nt->r, 0, 9);
	nt->ty.sep = k < 5 ? '*' : k < 7 ? ' ' : k < 9 ? '#' : 0;
	nt->ty.boxes = scenario_chance(&nt->r, c->style.boxes);
	if (scenario_plan_tps(b, &nt->r, t, nt->plans, &nt->nplans) == -1)
		goto out;
	for (i = 0; i < nt->nplans; i++)
		if (scenario_later(nt, nt->plans[i].t, (int)i, SC_CLEAN,
		    0) == NULL)
			goto out;
	while (nt->nq > 0) {
		for (best = 0, i = 1; i < nt->nq; i++)
			if (nt->q[i].t < nt->q[best].t || (nt->q[i].t ==
			    nt->q[best].t && nt->q[i].order <
			    nt->q[best].order))
				best = i;
		p = nt->q[best];
		nt->q[best] = nt->q[--nt->nq];
		if ((m = scenario_compose(nt, &p)) == NULL)
			goto out;
		TAILQ_INSERT_TAIL(&ph->msgs, m, pentry);
		ph->nmsgs++;
		if (scenario_arrive(nt, m, p.plan) == -1)
			goto out;
	}
	rc = 0;
out:
	free(nt->q);
	free(nt);
	return (rc);
}

/* A unique +62 8xx number per TPS, from the seed. */
static void
scenario_msisdn(uint64_t seed, size_t idx, char *buf, size_t len)
{
	uint64_t	 h = seed * 0x9e3779b97f4a7c15ULL + 12345;
	unsigned	 pre, num;

	h ^= h >> 31;
	pre = (unsigned)((h + idx) % (sizeof(sc_prefixes) /
	    sizeof(sc_prefixes[0])));
	/* 48271 is prime to 10^8: idx -> num is one to one. */
	num = (unsigned)((48271ULL * idx + (h % 100000000ULL)) % 100000000ULL);
	snprintf(buf, len, "+62%s%08u", sc_prefixes[pre], num);
}

static int
scenario_msg_cmp(const void *a, const void *b)
{
	const struct sc_msg *x = *(const struct sc_msg *const *)a;
	const struct sc_msg *y = *(const struct sc_msg *const *)b;

	if (x->t != y->t)
		return (x->t < y->t ? -1 : 1);
	if (x->tps != y->tps)
		return (x->tps < y->tps ? -1 : 1);
	return (x->id < y->id ? -1 : x->id > y->id);
}

/* Latest accepted SEQ of each (TPS, contest, page): the final state. */
static int
scenario_finals(struct scenario *sc)
{
	struct sc_phone	*ph;
	struct sc_msg	*m;
	struct sc_final	*f, *first;

	TAILQ_FOREACH(ph, &sc->phones, entry) {
		first = NULL;	/* this phone's finals start here */
		TAILQ_FOREACH(m, &ph->msgs, pentry) {
			if (!m->expect.forward)
				continue;
			for (f = first; f != NULL; f = TAILQ_NEXT(f, entry))
				if (f->contest == m->contest &&
				    f->page == m->page)
					break;
			if (f == NULL) {
				if ((f = calloc(1, sizeof(*f))) == NULL)
					return (-1);
				f->tps = m->tps;
				f->contest = m->contest;
				f->page = m->page;
				TAILQ_INSERT_TAIL(&sc->finals, f, entry);
				sc->nfinals++;
				if (first == NULL)
					first = f;
			} else if (f->seq > m->seq)
				continue;
			f->seq = m->seq;
			memcpy(f->receipt, m->expect.receipt,
			    sizeof(f->receipt));
			f->msg = m;
		}
	}
	return (0);
}

int
scenario_build(const struct scenario_conf *conf, struct scenario **out,
    char *err, size_t errlen)
{
	struct sc_build	 b;
	struct scenario	*sc = NULL;
	struct sc_tps	*all = NULL, *pick = NULL;
	struct sc_msg	**arr = NULL, *m;
	struct sc_phone	*ph;
	struct truth_conf tc;
	size_t		 nall, nlong, i, k;
	char		 rerr[512];

	memset(&b, 0, sizeof(b));
	b.conf = conf;
	b.err = err;
	b.errlen = errlen;
	*out = NULL;
	if (conf->election == NULL || conf->key == NULL || conf->ntps == 0 ||
	    conf->csv == NULL) {
		scenario_error(&b,
		    "scenario: election, key, csv and ntps are needed");
		return (-1);
	}
	if (key_init() == -1) {
		scenario_error(&b, "scenario: libsodium init failed");
		return (-1);
	}
	nlong = conf->desa_csv != NULL ? (size_t)floor(conf->ntps *
	    conf->long_share + 0.5) : 0;
	if (nlong > conf->ntps)
		nlong = conf->ntps;
	if ((sc = calloc(1, sizeof(*sc))) == NULL ||
	    (pick = calloc(conf->ntps, sizeof(*pick))) == NULL)
		goto oom;
	TAILQ_INIT(&sc->msgs);
	TAILQ_INIT(&sc->phones);
	TAILQ_INIT(&sc->finals);
	sc->seed = conf->seed;
	if (scenario_load_ppwp(&b, &all, &nall) == -1 ||
	    scenario_pick(&b, all, nall, conf->ntps - nlong, pick) == -1 ||
	    scenario_pick_long(&b, nlong, pick + conf->ntps - nlong, pick,
	    conf->ntps - nlong) == -1)
		goto fail;
	if (conf->registry != NULL && (b.reg = registry_open(conf->registry,
	    REGISTRY_RDONLY, rerr, sizeof(rerr))) == NULL) {
		scenario_error(&b, "%s", rerr);
		goto fail;
	}
	tc.election = conf->election;
	tc.registry = b.reg;
	tc.key = conf->key;
	if ((b.truth = truth_new(&tc)) == NULL)
		goto oom;
	b.sc = sc;
	for (i = 0; i < conf->ntps; i++) {
		if ((ph = calloc(1, sizeof(*ph))) == NULL)
			goto oom;
		ph->tps = pick[i].tps;
		TAILQ_INIT(&ph->msgs);
		scenario_msisdn(conf->seed, i, ph->msisdn, sizeof(ph->msisdn));
		TAILQ_INSERT_TAIL(&sc->phones, ph, entry);
		sc->nphones++;
		if (scenario_night(&b, ph, &pick[i]) == -1)
			goto fail;
		sc->nmsgs += ph->nmsgs;
	}
	/* All messages in time order; ties by TPS, then send order. */
	if ((arr = calloc(sc->nmsgs + 1, sizeof(*arr))) == NULL)
		goto oom;
	k = 0;
	TAILQ_FOREACH(ph, &sc->phones, entry) {
		size_t j = 0;

		TAILQ_FOREACH(m, &ph->msgs, pentry) {
			m->id = j++;
			arr[k++] = m;
		}
	}
	qsort(arr, k, sizeof(*arr), scenario_msg_cmp);
	for (i = 0; i < k; i++) {
		arr[i]->id = i;
		TAILQ_INSERT_TAIL(&sc->msgs, arr[i], entry);
	}
	free(arr);
	if (scenario_finals(sc) == -1)
		goto oom;
	free(all);
	free(pick);
	truth_free(b.truth);
	registry_close(b.reg);
	*out = sc;
	return (0);
oom:
	scenario_error(&b, "out of memory");
fail:
	free(all);
	free(pick);
	truth_free(b.truth);
	if (b.reg != NULL)
		registry_close(b.reg);
	scenario_free(sc);
	return (-1);
}

void
scenario_free(struct scenario *sc)
{
	struct sc_phone	*ph;
	struct sc_msg	*m;
	struct sc_final	*f;

	if (sc == NULL)
		return;
	while ((ph = TAILQ_FIRST(&sc->phones)) != NULL) {
		TAILQ_REMOVE(&sc->phones, ph, entry);
		while ((m = TAILQ_FIRST(&ph->msgs)) != NULL) {
			TAILQ_REMOVE(&ph->msgs, m, pentry);
			scenario_msg_free(m);
		}
		free(ph);
	}
	while ((f = TAILQ_FIRST(&sc->finals)) != NULL) {
		TAILQ_REMOVE(&sc->finals, f, entry);
		free(f);
	}
	free(sc);
}

const struct sc_msg *
scenario_first(const struct scenario *sc)
{
	return (TAILQ_FIRST(&sc->msgs));
}

const struct sc_msg *
scenario_next(const struct sc_msg *m)
{
	return (TAILQ_NEXT(m, entry));
}

const struct sc_phone *
scenario_phone(const struct scenario *sc, const char *msisdn)
{
	const struct sc_phone	*ph;

	TAILQ_FOREACH(ph, &sc->phones, entry)
		if (strcmp(ph->msisdn, msisdn) == 0)
			return (ph);
	return (NULL);
}

/* Count messages of a kind (-1 any) with an expected verdict (-1 any). */
size_t
scenario_count(const struct scenario *sc, int kind, int verdict)
{
	const struct sc_msg	*m;
	size_t			 n = 0;

	TAILQ_FOREACH(m, &sc->msgs, entry)
		if ((kind < 0 || (int)m->kind == kind) &&
		    (verdict < 0 || (int)m->expect.verdict == verdict))
			n++;
	return (n);
}

static json_t *
scenario_flags_json(unsigned flags)
{
	json_t		*a = json_array();
	const char	*name;
	unsigned	 i;

	for (i = 0; a != NULL && (name = truth_flag_name(i)) != NULL; i++)
		if (flags & (1u << i))
			json_array_append_new(a, json_string(name));
	return (a);
}

/* A USSD report's sessions, for scenario.jsonl. */
static json_t *
scenario_ussd_json(const struct sc_ussd *u)
{
	const struct sc_session	*ss;
	json_t			*a, *in, *th, *o;
	size_t			 k, i;

	if ((a = json_array()) == NULL)
		return (NULL);
	for (k = 0; k < u->nsessions; k++) {
		ss = &u->sessions[k];
		in = json_array();
		th = json_array();
		for (i = 0; in != NULL && th != NULL && i < ss->ninputs; i++) {
			json_array_append_new(in, json_string(ss->inputs[i]));
			json_array_append_new(th, json_integer(ss->think[i]));
		}
		o = json_pack("{s:s, s:b, s:b, s:o, s:I, s:o, s:o}",
		    "end", scenario_end_name(ss->end),
		    "resume", ss->resume,
		    "retry", ss->retry,
		    "wrong", ss->wrong >= 0 ? json_integer(ss->wrong) :
		    json_null(),
		    "gap", (json_int_t)ss->gap,
		    "inputs", in,
		    "think", th);
		if (o == NULL || json_array_append_new(a, o) == -1) {
			json_decref(a);
			return (NULL);
		}
	}
	return (json_pack("{s:s, s:I, s:o}", "slip",
	    scenario_slip_name(u->slip), "sent", (json_int_t)u->sent,
	    "sessions", a));
}

/* One message as a JSON object (the line scenario_write prints). */
static json_t *
scenario_msg_json(const struct sc_msg *m)
{
	const struct sc_expect	*x = &m->expect;
	json_t			*o, *e, *v;
	char			 tps[16];
	size_t			 i;

	snprintf(tps, sizeof(tps), "%013llu", (unsigned long long)m->tps);
	v = json_array();
	for (i = 0; v != NULL && i < x->nvalues; i++)
		json_array_append_new(v, json_integer(x->values[i]));
	e = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b}",
	    "verdict", truth_verdict_name(x->verdict),
	    "reason", x->verdict == VERDICT_REJECTED ?
	    json_string(scenario_reason_name(x->reason)) : json_null(),
	    "flags", scenario_flags_json(x->flags),
	    "auth", x->auth == AUTH_MAC ? json_string("mac") :
	    x->auth == AUTH_CARD ? json_string("card") : json_null(),
	    "canonical", x->canon != NULL ? json_string(x->canon) : json_null(),
	    "values", v,
	    "receipt", x->receipt[0] ? json_string(x->receipt) : json_null(),
	    "supersedes", x->supersedes ? json_integer(x->supersedes) :
	    json_null(),
	    "forward", x->forward);
	if (e == NULL)
		return (NULL);
	if (x->quoted[0])
		json_object_set_new(e, "quoted", json_string(x->quoted));
	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:s, s:s, "
	    "s:s, s:I, s:o}",
	    "id", (json_int_t)m->id,
	    "phone", m->phone->msisdn,
	    "channel", m->ussd != NULL ? "ussd" : "sms",
	    "tps", tps,
	    "contest", decode_contest_name(m->contest),
	    "page", m->page >= 0 ? json_integer(m->page) : json_null(),
	    "seq", (json_int_t)m->seq,
	    "t", (json_int_t)m->t,
	    "kind", scenario_kind_name(m->kind),
	    "mode", m->phone->mode == SC_MODE_CARD ? "card" : "mac",
	    "text", m->text,
	    "parts", (json_int_t)m->parts,
	    "expect", e);
	if (o != NULL && m->ussd != NULL && json_object_set_new(o, "ussd",
	    scenario_ussd_json(m->ussd)) == -1) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

/* Every message in time order, one JSON object per line. */
int
scenario_write(FILE *fp, const struct scenario *sc)
{
	const struct sc_msg	*m;
	json_t			*o;
	int			 rc;

	TAILQ_FOREACH(m, &sc->msgs, entry) {
		if ((o = scenario_msg_json(m)) == NULL)
			return (-1);
		rc = json_dumpf(o, fp, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (rc == -1 || fputc('\n', fp) == EOF)
			return (-1);
	}
	return (ferror(fp) ? -1 : 0);
}

/* The USSD officers: their reports, sessions, slips and cuts. */
static void
scenario_summary_ussd(FILE *fp, const struct scenario *sc)
{
	const struct sc_phone	*ph;
	const struct sc_msg	*m;
	size_t			 phones = 0, n = 0, sessions = 0, retry = 0;
	size_t			 slip[SC_SLIP_MAX], end[SC_END_MAX], k;

	memset(slip, 0, sizeof(slip));
	memset(end, 0, sizeof(end));
	TAILQ_FOREACH(ph, &sc->phones, entry)
		phones += ph->ussd != 0;
	TAILQ_FOREACH(m, &sc->msgs, entry) {
		if (m->ussd == NULL)
			continue;
		n++;
		slip[m->ussd->slip]++;
		for (k = 0; k < m->ussd->nsessions; k++) {
			sessions++;
			end[m->ussd->sessions[k].end]++;
			retry += m->ussd->sessions[k].retry != 0;
		}
	}
	if (phones == 0)
		return;
	fprintf(fp, "ussd: %zu phones, %zu reports in %zu sessions; slips: "
	    "wrong key %zu, back %zu, restart %zu; cut: dropped %zu, timed "
	    "out %zu, abandoned %zu; last step retried %zu\n", phones, n,
	    sessions, slip[SC_SLIP_KEY], slip[SC_SLIP_BACK],
	    slip[SC_SLIP_START], end[SC_END_DROP], end[SC_END_TIMEOUT],
	    end[SC_END_ABANDON], retry);
}

/* Counts by kind and expected verdict, for people. */
void
scenario_summary(FILE *fp, const struct scenario *sc)
{
	size_t	 n[SC_KIND_MAX][5], tot[5], lng = 0, card = 0, seqmax = 0;
	const struct sc_msg *m;
	const struct sc_phone *ph;
	int	 k, v;

	memset(n, 0, sizeof(n));
	memset(tot, 0, sizeof(tot));
	TAILQ_FOREACH(m, &sc->msgs, entry) {
		n[m->kind][m->expect.verdict]++;
		tot[m->expect.verdict]++;
		if (m->parts > 1)
			lng++;
		if (m->seq > seqmax)
			seqmax = m->seq;
	}
	TAILQ_FOREACH(ph, &sc->phones, entry)
		if (ph->mode == SC_MODE_CARD)
			card++;
	fprintf(fp, "scenario: seed %llu, %zu TPS (%zu card, %zu mac), "
	    "%zu messages (%.1f per TPS), %zu multipart, highest SEQ %zu\n",
	    (unsigned long long)sc->seed, sc->nphones, card,
	    sc->nphones - card, sc->nmsgs, sc->nphones ?
	    (double)sc->nmsgs / sc->nphones : 0.0, lng, seqmax);
	fprintf(fp, "%-14s %6s %6s %6s %6s %6s\n", "kind", "OK", "FLAG",
	    "DUP", "REJ", "total");
	for (k = 0; k < SC_KIND_MAX; k++) {
		size_t t = 0;

		for (v = 1; v < 5; v++)
			t += n[k][v];
		fprintf(fp, "%-14s %6zu %6zu %6zu %6zu %6zu\n",
		    scenario_kind_name((enum sc_kind)k), n[k][VERDICT_OK],
		    n[k][VERDICT_FLAGGED], n[k][VERDICT_DUPLICATE],
		    n[k][VERDICT_REJECTED], t);
	}
	fprintf(fp, "%-14s %6zu %6zu %6zu %6zu %6zu\n", "all",
	    tot[VERDICT_OK], tot[VERDICT_FLAGGED], tot[VERDICT_DUPLICATE],
	    tot[VERDICT_REJECTED], sc->nmsgs);
	fprintf(fp, "final state: %zu (TPS, contest, page) records\n",
	    sc->nfinals);
	scenario_summary_ussd(fp, sc);
}
