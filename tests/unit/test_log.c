/*
 * log: what a message's text brings into the log stays text. An SMS is
 * logged (receive.c logs what a non-report said): its newlines must not
 * make lines of their own, its escape sequences must not reach the
 * operator's terminal.
 */

#include <unistd.h>

#include "unit.h"
#include "log.h"

/* The line log_info writes to standard error for a message's text. */
static void
logged(const char *text, char *out, size_t len)
{
	FILE	*f;
	int	 saved;
	size_t	 n;

	fflush(stderr);
	saved = dup(2);
	assert_non_null(f = tmpfile());
	assert_int_not_equal(dup2(fileno(f), 2), -1);
	log_init("test", LOG_TO_STDERR, 1);
	log_info("msg 7: \"%s\"", text);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void
test_controls(void **state)
{
	char	 buf[4096];

	logged("halo\ntallygw: warn: forged", buf, sizeof(buf));
	assert_string_equal(buf,
	    "test: info: msg 7: \"halo\\ntallygw: warn: forged\"\n");
	logged("\x1b]0;x\x07\x1b[2J\r\x7f\tok", buf, sizeof(buf));
	assert_string_equal(buf, "test: info: msg 7: "
	    "\"\\x1b]0;x\\x07\\x1b[2J\\x0d\\x7f\\tok\"\n");
	/* C1 controls written in UTF-8 (U+009B is CSI); other text stays. */
	logged("\xc2\x9b" "2J \xc3\xa9 \xe3\x80\x80 \xf0\x9f\x98\x80", buf,
	    sizeof(buf));
	assert_string_equal(buf, "test: info: msg 7: \"\\u009b2J \xc3\xa9 "
	    "\xe3\x80\x80 \xf0\x9f\x98\x80\"\n");
}

/* A line of nothing but controls, four times longer escaped, is cut. */
static void
test_long(void **state)
{
	char	 in[2000], buf[16384];

	memset(in, '\n', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	logged(in, buf, sizeof(buf));
	assert_true(strlen(buf) > 3000);
	assert_int_equal(strchr(buf, '\n') - buf, (long)strlen(buf) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_long),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
