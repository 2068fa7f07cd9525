/*
 * log: what a message's text brings into the log stays text. An SMS is
 * logged (receive.c logs what a non-report said): its newlines must not
 * make lines of their own, its escape sequences must not reach the
 * operator's terminal.
 */

#include <sys/wait.h>

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

/* The bytes written to f so far, from its start. */
static size_t
written(FILE *f, char *out, size_t len)
{
	size_t	 n;

	rewind(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	return (n);
}

/*
 * log_hold: a batch's lines wait and go out together at log_release, in
 * order, and nothing is lost when they fill the buffer; a fatal line
 * writes them first (checked in a child, which fatal ends).
 */
static void
test_hold(void **state)
{
	static char	 buf[65536], want[65536];
	FILE		*f;
	pid_t		 pid;
	int		 saved, st, i;
	size_t		 n = 0;

	fflush(stderr);
	saved = dup(2);
	assert_non_null(f = tmpfile());
	assert_int_not_equal(dup2(fileno(f), 2), -1);
	log_init("test", LOG_TO_STDERR, 1);
	log_hold();
	log_info("one");
	log_warnx("two");
	assert_int_equal(written(f, buf, sizeof(buf)), 0);
	log_release();
	assert_int_equal(written(f, buf, sizeof(buf)), 32);
	assert_string_equal(buf, "test: info: one\ntest: warn: two\n");
	/* More than the buffer holds, in order. */
	assert_int_equal(ftruncate(fileno(f), 0), 0);
	assert_int_equal(lseek(2, 0, SEEK_SET), 0);
	log_hold();
	for (i = 0; i < 1000; i++) {
		log_info("line %04d of a batch", i);
		n += (size_t)snprintf(want + n, sizeof(want) - n,
		    "test: info: line %04d of a batch\n", i);
	}
	log_release();
	assert_int_equal(written(f, buf, sizeof(buf)), n);
	assert_string_equal(buf, want);
	/* A fatal line: the held ones first, then it. */
	assert_int_equal(ftruncate(fileno(f), 0), 0);
	assert_int_equal(lseek(2, 0, SEEK_SET), 0);
	if ((pid = fork()) == 0) {
		log_hold();
		log_info("held");
		fatalx("the end");
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	written(f, buf, sizeof(buf));
	assert_string_equal(buf, "test: info: held\ntest: fatal: the end\n");
	dup2(saved, 2);
	close(saved);
	fclose(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_hold),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
