/*
 * balance: the prepaid airtime left on a modem's SIM, read from the
 * operator's answer to its balance USSD code ("Sisa pulsa Anda
 * Rp12.345. Aktif s.d. 21-02-2026"). Every operator words it its own
 * way, so a table names, per operator, its USSD code and the words that
 * come before the amount; a generic list is the fallback. Amounts are
 * written the Indonesian way (thousands '.', decimals ',') or the
 * English way ("Rp 1,250.00"); only whole rupiah are kept.
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "gw.h"
#include "log.h"

#define BALANCE_TEXT_MAX	1024	/* of an answer, looked at */
#define BALANCE_DIGITS_MAX	12	/* rupiah: more is not a balance */
#define BALANCE_GAP_WORDS	6	/* words between keyword and amount */
#define BALANCE_DATE_GAP	16	/* characters from "aktif" to date */
#define BALANCE_DEFAULT_USSD	"*888#"

struct balance_oper {
	const char	*name;
	const char	*words[6];	/* words of the network name */
	const char	*mccmnc[3];
	const char	*ussd;
	const char	*keys[6];	/* before the amount, specific first */
};

/*
 * The operators of Indonesia (COPS long and short names, MCC-MNC) and
 * their balance codes. Tri (3) belongs to Indosat Ooredoo Hutchison
 * since 2022 but keeps its own network name and code.
 */
static const struct balance_oper balance_opers[] = {
	{ "Telkomsel", { "telkomsel", "tsel", "simpati", "byu" },
	    { "51010" }, "*888#",
	    { "sisa pulsa", "pulsa utama", "pulsa anda", "pulsa" } },
	{ "Indosat Ooredoo", { "indosat", "ooredoo", "im3", "isat",
	    "mentari" }, { "51001", "51021" }, "*555#",
	    { "sisa pulsa", "pulsa utama", "pulsa", "saldo" } },
	{ "XL Axiata", { "xl", "axis", "axiata", "xlaxiata" },
	    { "51011", "51008" }, "*123#",
	    { "sisa pulsa", "pulsa utama", "pulsa", "saldo" } },
	{ "Smartfren", { "smartfren", "smart", "fren" },
	    { "51009", "51028" }, "*999#",
	    { "sisa saldo", "saldo", "sisa pulsa", "pulsa" } },
	{ "Tri", { "tri", "three", "3", "h3i", "3id" },
	    { "51089" }, "*111#",
	    { "pulsa utama", "sisa pulsa", "pulsa" } },
};

/* Whatever the operator: the words that may come before an amount. */
static const char *const balance_generic[] = {
	"sisa pulsa", "pulsa utama", "saldo utama", "sisa saldo",
	"main balance", "pulsa anda", "balance", "saldo", "pulsa", "credit",
};

/* Words that may stand between the keyword and the amount. */
static const char *const balance_gap[] = {
	"anda", "kamu", "your", "is", "adalah", "sebesar", "saat", "ini",
	"sekarang", "skrg", "tersisa", "utama", "sisa", "main", "account",
	"reguler", "regular", "now", "rp", "idr",
};

/* A word right after the number that says it is not rupiah. */
static const char *const balance_units[] = {
	"gb", "mb", "kb", "sms", "menit", "mnt", "min", "hari", "detik",
	"poin", "point", "points", "unit", "x",
};

/* Words of an expiry date. */
static const char *const balance_expiry_keys[] = {
	"aktif", "active", "berlaku", "valid", "kadaluarsa", "kedaluwarsa",
	"expiry", "expires", "exp",
};

static const char *const balance_months[] = {
	"jan", "feb", "mar", "apr", "mei", "jun", "jul", "agu", "sep", "okt",
	"nov", "des",
};
static const char *const balance_months_en[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
	"nov", "dec",
};

static int	balance_in(const char *, size_t, const char *const *, size_t);

/* Is the word w (n letters) in the list? */
static int
balance_in(const char *w, size_t n, const char *const *list, size_t nlist)
{
	size_t	 i;

	for (i = 0; i < nlist; i++)
		if (strlen(list[i]) == n && strncmp(w, list[i], n) == 0)
			return (1);
	return (0);
}

static const struct balance_oper *
balance_oper_find(const char *oper)
{
	char		 low[GW_OPER_MAX * 2], digits[16];
	const char	*p, *w;
	size_t		 i, j, n, nd = 0;

	if (oper == NULL || *oper == '\0')
		return (NULL);
	for (i = 0; oper[i] != '\0' && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)oper[i]);
	low[i] = '\0';
	/* "51010", "510 10": the MCC-MNC. */
	for (p = low; *p != '\0' && nd + 1 < sizeof(digits); p++) {
		if (isdigit((unsigned char)*p))
			digits[nd++] = *p;
		else if (*p != ' ' && *p != '-')
			break;
	}
	digits[nd] = '\0';
	if (*p == '\0' && nd == 5) {
		for (i = 0; i < sizeof(balance_opers) /
		    sizeof(balance_opers[0]); i++)
			for (j = 0; j < 3 && balance_opers[i].mccmnc[j]; j++)
				if (strcmp(digits, balance_opers[i].mccmnc[j])
				    == 0)
					return (&balance_opers[i]);
	}
	/* Otherwise a word of its name: "INDOSAT OOREDOO", "XL Axiata". */
	for (i = 0; i < sizeof(balance_opers) / sizeof(balance_opers[0]);
	    i++) {
		for (p = low; *p != '\0'; p += n) {
			if (!isalnum((unsigned char)*p)) {
				n = 1;
				continue;
			}
			for (w = p, n = 0; isalnum((unsigned char)w[n]); n++)
				;
			for (j = 0; j < 6 && balance_opers[i].words[j]; j++)
				if (strlen(balance_opers[i].words[j]) == n &&
				    strncmp(w, balance_opers[i].words[j], n) ==
				    0)
					return (&balance_opers[i]);
		}
	}
	return (NULL);
}

/* The balance USSD code of an operator; Telkomsel's if unknown. */
const char *
balance_ussd_code(const char *oper)
{
	const struct balance_oper	*op = balance_oper_find(oper);

	return (op != NULL ? op->ussd : BALANCE_DEFAULT_USSD);
}

/*
 * The number at p: digit groups joined by '.' or ','. The last group
 * is decimals if it is not 3 digits long or follows the other kind of
 * separator ("10.500,00", "1,250.50"); every other group is thousands.
 * Returns the characters read, 0 if it is not an amount.
 */
static size_t
balance_number(const char *p, long *out, int *ndigits)
{
	const char	*s = p, *end;
	char		 seps[64];
	size_t		 glen[64], ng = 0, i, k, keep;
	long		 v = 0;
	int		 nd = 0;

	for (;;) {
		for (glen[ng] = 0; isdigit((unsigned char)*p); p++)
			glen[ng]++;
		ng++;
		if ((*p != '.' && *p != ',') || !isdigit((unsigned char)p[1]) ||
		    ng == sizeof(glen) / sizeof(glen[0]))
			break;
		seps[ng - 1] = *p++;
	}
	end = p;
	keep = ng;
	if (ng > 1 && (glen[ng - 1] != 3 ||
	    (ng > 2 && seps[ng - 2] != seps[0])))
		keep = ng - 1;		/* decimals: dropped */
	if (keep > 1 && glen[0] > 3)
		return (0);		/* "12345.678": not a grouping */
	for (i = 1; i < keep; i++)
		if (glen[i] != 3 || seps[i - 1] != seps[0])
			return (0);
	for (i = 0, p = s; i < keep; i++, p++) {
		for (k = 0; k < glen[i]; k++, p++) {
			if (nd == 0 && *p == '0')
				continue;
			if (++nd > BALANCE_DIGITS_MAX)
				return (0);
			v = v * 10 + (*p - '0');
		}
	}
	*out = v;
	*ndigits = nd == 0 ? 1 : nd;
	return ((size_t)(end - s));
}

/*
 * The amount after a keyword: only known words ("Anda", "Rp") and
 * punctuation may stand between them. Returns 1 and the amount, or 0.
 */
static int
balance_amount(const char *p, long *rupiah)
{
	const char	*w;
	size_t		 n, used;
	long		 v;
	int		 words = 0, currency = 0, nd;

	for (;;) {
		while (*p == ' ' || *p == ':' || *p == '=' || *p == '-' ||
		    *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (isdigit((unsigned char)*p))
			break;
		if (!isalpha((unsigned char)*p) || words++ ==
		    BALANCE_GAP_WORDS)
			return (0);
		for (w = p, n = 0; isalpha((unsigned char)w[n]); n++)
			;
		if (!balance_in(w, n, balance_gap, sizeof(balance_gap) /
		    sizeof(balance_gap[0])))
			return (0);
		if ((n == 2 && strncmp(w, "rp", 2) == 0) ||
		    (n == 3 && strncmp(w, "idr", 3) == 0))
			currency = 1;
		p += n;
		if (*p == '.')		/* "Rp.10.500" */
			p++;
	}
	if ((used = balance_number(p, &v, &nd)) == 0)
		return (0);
	p += used;
	/* "5GB", "100 SMS": a quota, not rupiah. */
	while (*p == ' ')
		p++;
	for (w = p, n = 0; isalpha((unsigned char)w[n]); n++)
		;
	if (n > 0 && balance_in(w, n, balance_units, sizeof(balance_units) /
	    sizeof(balance_units[0])))
		return (0);
	if ((n == 2 && strncmp(w, "rb", 2) == 0) ||
	    (n == 4 && strncmp(w, "ribu", 4) == 0)) {
		v *= 1000;		/* "Rp 12 rb" */
		if ((nd += 3) > BALANCE_DIGITS_MAX)
			return (0);
	}
	/* Without "Rp", a number under 100 is a menu item, not a balance. */
	if (!currency && nd < 3)
		return (0);
	*rupiah = v;
	return (1);
}

static int
balance_leap(int y)
{
	return ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0);
}

/* A month name at p (Indonesian or English, 3 letters or more). */
static int
balance_month(const char *p, size_t *used)
{
	size_t	 n, i;

	for (n = 0; isalpha((unsigned char)p[n]); n++)
		;
	if (n < 3)
		return (0);
	for (i = 0; i < 12; i++)
		if (strncmp(p, balance_months[i], 3) == 0 ||
		    strncmp(p, balance_months_en[i], 3) == 0 ||
		    (i == 7 && strncmp(p, "agt", 3) == 0)) {
			*used = n;
			return ((int)i + 1);
		}
	return (0);
}

static int
balance_int(const char **pp, int maxdigits, int *n)
{
	const char	*p = *pp;
	int		 v = 0, k = 0;

	while (isdigit((unsigned char)*p) && k < maxdigits) {
		v = v * 10 + (*p++ - '0');
		k++;
	}
	if (k == 0 || isdigit((unsigned char)*p))
		return (-1);
	*pp = p;
	*n = k;
	return (v);
}

/*
 * A date at p: DD-MM-YYYY (or '/', '.', a 2-digit year), YYYY-MM-DD, or
 * "12 Mar 2026"; written as YYYY-MM-DD. Returns 1 if found.
 */
static int
balance_date(const char *p, char *out, size_t outlen)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int	 a, b, c, na, nb, nc, d, m, y;
	size_t	 used;
	char	 sep;

	if ((a = balance_int(&p, 4, &na)) < 0)
		return (0);
	sep = *p;
	if (sep == ' ' && (m = balance_month(p + 1, &used)) != 0) {
		p += 1 + used;
		if (*p == '.')
			p++;
		if (*p++ != ' ' || (c = balance_int(&p, 4, &nc)) < 0 ||
		    nc != 4)
			return (0);
		d = a;
		y = c;
	} else {
		if (sep != '-' && sep != '/' && sep != '.')
			return (0);
		p++;
		if ((b = balance_int(&p, 2, &nb)) < 0 || *p != sep)
			return (0);
		p++;
		if ((c = balance_int(&p, 4, &nc)) < 0)
			return (0);
		m = b;
		if (na == 4) {
			y = a;
			d = c;
			if (nc > 2)
				return (0);
		} else if (na <= 2 && (nc == 4 || nc == 2)) {
			d = a;
			y = nc == 2 ? 2000 + c : c;
		} else
			return (0);
	}
	if (y < 2000 || y > 2099 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1] + (m == 2 && balance_leap(y)))
		return (0);
	snprintf(out, outlen, "%04d-%02d-%02d", y, m, d);
	return (1);
}

/* The expiry: a date shortly after "aktif", "berlaku", "valid"... */
static int
balance_expiry(const char *low, char *out, size_t outlen)
{
	const char	*p, *q;
	size_t		 i, n, gap;

	for (i = 0; i < sizeof(balance_expiry_keys) /
	    sizeof(balance_expiry_keys[0]); i++) {
		n = strlen(balance_expiry_keys[i]);
		for (p = low; (p = strstr(p, balance_expiry_keys[i])) != NULL;
		    p += n) {
			if (p > low && isalpha((unsigned char)p[-1]))
				continue;
			for (q = p + n, gap = 0; *q != '\0' &&
			    !isdigit((unsigned char)*q) &&
			    gap < BALANCE_DATE_GAP; q++, gap++)
				;
			if (isdigit((unsigned char)*q) &&
			    balance_date(q, out, outlen))
				return (1);
		}
	}
	return (0);
}

/* The first amount after one of the keywords. */
static int
balance_find(const char *low, const char *const *keys, size_t nkeys,
    long *rupiah)
{
	const char	*p;
	size_t		 i, n;

	for (i = 0; i < nkeys && keys[i] != NULL; i++) {
		n = strlen(keys[i]);
		for (p = low; (p = strstr(p, keys[i])) != NULL; p += n) {
			if (p > low && isalpha((unsigned char)p[-1]))
				continue;
			if (isalpha((unsigned char)p[n]))
				continue;	/* "saldonya"? not ours */
			if (balance_amount(p + n, rupiah))
				return (1);
		}
	}
	return (0);
}

/*
 * Read the balance (whole rupiah) and, if given, the expiry date
 * (YYYY-MM-DD, "" if none) from a USSD answer. Returns 1 if a balance
 * was found, 0 if the text holds none, -1 on a bad argument.
 */
int
balance_parse(const char *oper, const char *text, long *rupiah,
    char *expiry, size_t explen)
{
	const struct balance_oper	*op;
	char				 low[BALANCE_TEXT_MAX];
	size_t				 i;
	long				 v;

	if (text == NULL || rupiah == NULL ||
	    (expiry != NULL && explen < sizeof("YYYY-MM-DD"))) {
		log_warnx("balance: bad argument");
		return (-1);
	}
	if (expiry != NULL)
		expiry[0] = '\0';
	for (i = 0; text[i] != '\0' && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)text[i]);
	low[i] = '\0';
	op = balance_oper_find(oper);
	if ((op == NULL || !balance_find(low, op->keys,
	    sizeof(op->keys) / sizeof(op->keys[0]), &v)) &&
	    !balance_find(low, balance_generic, sizeof(balance_generic) /
	    sizeof(balance_generic[0]), &v)) {
		log_debug("balance: %s: no balance in \"%.60s\"",
		    op != NULL ? op->name : "?", text);
		return (0);
	}
	*rupiah = v;
	if (expiry != NULL && !balance_expiry(low, expiry, explen))
		expiry[0] = '\0';
	return (1);
}
