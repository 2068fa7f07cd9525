/*
 * kpps: the optional list of registered KPPS numbers per TPS. A report
 * from a number not on its TPS's list is accepted but flagged SENDER.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "log.h"
#include "gw.h"

/* Registered KPPS numbers: (TPS, number) pairs, sorted. */
struct kpps_entry {
	uint64_t	 tps;
	char		 number[WIRE_NUMBER_MAX];	/* +62..., config_msisdn */
};
struct kpps {
	struct kpps_entry *v;
	size_t		 n;
};

static int
kpps_cmp(const void *a, const void *b)
{
	const struct kpps_entry	*x = a, *y = b;

	if (x->tps != y->tps)
		return (x->tps < y->tps ? -1 : 1);
	return (strcmp(x->number, y->number));
}

/* Append one (TPS, number) record of FILE:LINE; -1 with err set. */
static int
kpps_add(struct kpps *k, size_t *cap, struct csv *csv, const char *path,
    char *err, size_t errlen)
{
	const char		*f = csv_field(csv, 0);
	char			*end;
	unsigned long long	 tps;
	struct kpps_entry	*v;

	if (csv->nf != 2) {
		snprintf(err, errlen, "%s:%lu: not 'TPS,NUMBER'", path,
		    csv->lineno);
		return (-1);
	}
	errno = 0;
	tps = strtoull(f, &end, 10);
	if (*end != '\0' || errno != 0 || strlen(f) != 13) {
		if (csv->lineno == 1)
			return (0);	/* a header line */
		snprintf(err, errlen, "%s:%lu: TPS is not 13 digits", path,
		    csv->lineno);
		return (-1);
	}
	if (k->n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		if ((v = reallocarray(k->v, *cap, sizeof(*k->v))) == NULL) {
			snprintf(err, errlen, "%s: out of memory", path);
			return (-1);
		}
		k->v = v;
	}
	k->v[k->n].tps = tps;
	if (config_msisdn(csv_field(csv, 1), k->v[k->n].number,
	    sizeof(k->v[k->n].number)) == -1) {
		snprintf(err, errlen, "%s:%lu: bad number", path, csv->lineno);
		return (-1);
	}
	k->n++;
	return (0);
}

/*
 * The list is a CSV of records TPS,NUMBER; an optional header line and
 * lines starting with # are passed over. NULL and FILE:LINE in err.
 */
struct kpps *
kpps_load(const char *path, char *err, size_t errlen)
{
	struct kpps	*k;
	struct csv	 csv;
	size_t		 cap = 0;
	int		 rc;

	if (csv_open(&csv, path) == -1) {
		snprintf(err, errlen, "%s: %s", path, csv.err);
		return (NULL);
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		csv_close(&csv);
		return (NULL);
	}
	while ((rc = csv_read(&csv)) == 1) {
		if (csv_field(&csv, 0)[0] == '#')
			continue;
		if (kpps_add(k, &cap, &csv, path, err, errlen) == -1)
			goto fail;
	}
	if (rc == -1) {
		snprintf(err, errlen, "%s:%lu: %s", path, csv.lineno, csv.err);
		goto fail;
	}
	csv_close(&csv);
	if (k->n > 0)		/* an empty list has no array to sort */
		qsort(k->v, k->n, sizeof(*k->v), kpps_cmp);
	log_info("kpps: %zu registered numbers from %s", k->n, path);
	return (k);
fail:
	csv_close(&csv);
	kpps_free(k);
	return (NULL);
}

void
kpps_free(struct kpps *k)
{
	if (k == NULL)
		return;
	free(k->v);
	free(k);
}

/* 1 if the TPS has registered numbers and the sender is not one. */
int
kpps_unregistered(const struct kpps *k, uint64_t tps, const char *sender)
{
	char		 num[WIRE_NUMBER_MAX];
	size_t		 lo = 0, hi, i;
	int		 any = 0;

	if (k == NULL)
		return (0);
	hi = k->n;
	while (lo < hi) {
		i = (lo + hi) / 2;
		if (k->v[i].tps < tps)
			lo = i + 1;
		else
			hi = i;
	}
	if (config_msisdn(sender, num, sizeof(num)) == -1)
		num[0] = '\0';		/* an alphanumeric sender: never listed */
	for (i = lo; i < k->n && k->v[i].tps == tps; i++) {
		any = 1;
		if (strcmp(k->v[i].number, num) == 0)
			return (0);
	}
	return (any);
}
