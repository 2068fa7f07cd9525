/*
 * libFuzzer target: config_parse, the reader of tallygw.conf, on
 * arbitrary text. Whatever it accepts, config_print must print in a
 * form that reads back to the same configuration (printing that again
 * gives the same text). Build with 'make fuzz'.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
fuzz_print(const struct gw_conf *conf)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		abort();
	config_print(conf, fp);
	if (fclose(fp) != 0)
		abort();
	return (buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_conf	 a, b;
	struct conf_modem	*m;
	char			 err[512], *t1, *t2;

	log_setverbose(-1);
	if (config_parse("/etc/tallygw/fuzz.conf", (const char *)data, size,
	    &a, err, sizeof(err)) == -1) {
		/* Errors always say where. */
		if (strncmp(err, "/etc/tallygw/fuzz.conf:", 23) != 0)
			abort();
		config_clear(&a);
		return (0);
	}
	TAILQ_FOREACH(m, &a.modems, entry)
		if (config_modem(&a, m->name) != m)
			abort();
	t1 = fuzz_print(&a);
	if (config_parse("/etc/tallygw/fuzz.conf", t1, strlen(t1), &b, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "printed configuration refused: %s\n%s", err,
		    t1);
		abort();
	}
	t2 = fuzz_print(&b);
	if (strcmp(t1, t2) != 0) {
		fprintf(stderr, "printed twice, differs:\n%s\n---\n%s", t1, t2);
		abort();
	}
	free(t1);
	free(t2);
	config_clear(&a);
	config_clear(&b);
	return (0);
}
