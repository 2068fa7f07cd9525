/*
 * menu: the USSD reporting menu, as a pure function of its state. One
 * new input gives the next screen; when the officer confirms the review,
 * the menu hands back the report as the text an SMS would carry, and
 * the USSD channel (ussd.c) sends it through the receive stage.
 *
 * The inputs always come in this order (docs/ussd.md): contest, TPS,
 * page (DPR, DPRDP, DPRDK), the values (all in one input joined by '*',
 * or one per screen), SEQ, CODE, review, 1 to send. "0" goes back and
 * "00" to the start, except where 0 is an answer (a page, a value):
 * there "#" goes back and "##" to the start. A wrong input repeats the
 * screen after a short reason. Every screen is at most MENU_SCREEN_MAX
 * GSM characters, in Indonesian, and says what to type next.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"

#define MENU_FOOT_MAX		24	/* "1 Lanjut 0 Ubah 00 Awal" */
#define MENU_WHY_MAX		48	/* "Salah: ...\n" before a screen */
#define MENU_NAME_MAX		24	/* a field's name on a screen */

static const char *const menu_contests[] = {
	[CONTEST_PPWP] = "PPWP",
	[CONTEST_DPR] = "DPR",
	[CONTEST_DPD] = "DPD",
	[CONTEST_DPRDP] = "DPRD Prov",
	[CONTEST_DPRDK] = "DPRD Kab/Kota",
};

/* What an input asks of the menu besides an answer. */
enum menu_nav {
	MENU_ANSWER = 0,
	MENU_BACK,
	MENU_START,
};

static void	menu_show(const struct menu *, const struct menu_env *,
		    char *, size_t);

static const char *const menu_steps[] = {
	[MENU_CONTEST] = "contest",
	[MENU_TPS] = "TPS",
	[MENU_PAGE] = "page",
	[MENU_VALUES] = "values",
	[MENU_SEQ] = "SEQ",
	[MENU_CODE] = "code",
	[MENU_REVIEW] = "review",
	[MENU_SENT] = "sent",
};

const char *
menu_step_name(enum menu_step s)
{
	if ((size_t)s >= sizeof(menu_steps) / sizeof(menu_steps[0]))
		return ("?");
	return (menu_steps[s]);
}

void
menu_init(struct menu *m)
{
	memset(m, 0, sizeof(*m));
	m->step = MENU_CONTEST;
	m->page = -1;
}

/* 1 while the step takes 0 as an answer: there '#' is back, not '0'. */
static int
menu_zero_answers(const struct menu *m)
{
	return (m->step == MENU_PAGE || m->step == MENU_VALUES);
}

static enum menu_nav
menu_nav(const struct menu *m, const char *in)
{
	if (menu_zero_answers(m)) {
		if (strcmp(in, "#") == 0)
			return (MENU_BACK);
		if (strcmp(in, "##") == 0)
			return (MENU_START);
		return (MENU_ANSWER);
	}
	if (strcmp(in, "0") == 0 || strcmp(in, "#") == 0)
		return (MENU_BACK);
	if (strcmp(in, "00") == 0 || strcmp(in, "##") == 0)
		return (MENU_START);
	return (MENU_ANSWER);
}

/* A decimal number of at most maxdig digits, nothing else; -1 if not. */
static long
menu_number(const char *s, size_t maxdig)
{
	long	 v = 0;
	size_t	 n;

	for (n = 0; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= maxdig)
			return (-1);
		v = v * 10 + (s[n] - '0');
	}
	return (n == 0 ? -1 : v);
}

/* The name of value i of the form in full, on the screen that asks it. */
static void
menu_field(const struct menu *m, const struct menu_env *env, size_t i,
    char *buf, size_t len)
{
	const struct form	*f = &m->form;
	const char		*party;

	if (f->kind == FORM_PARTY) {
		if (i == 0)
			snprintf(buf, len, "PARTAI");
		else
			snprintf(buf, len, "Caleg %u", (unsigned)i);
		return;
	}
	if (i == 0)
		snprintf(buf, len, "PEMILIH");
	else if (i == f->nvalues - 2)
		snprintf(buf, len, "SAH");
	else if (i == f->nvalues - 1)
		snprintf(buf, len, "TIDAK SAH");
	else if (m->contest == CONTEST_PPWP)
		snprintf(buf, len, "Paslon %u", (unsigned)i);
	else if (m->contest == CONTEST_DPD)
		snprintf(buf, len, "Calon %u", (unsigned)i);
	else {
		party = election_party_name(env->election, f->choices[i - 1]);
		snprintf(buf, len, "Partai %d%s%.10s", f->choices[i - 1],
		    party != NULL ? " " : "", party != NULL ? party : "");
	}
}

/*
 * The short name of value i on the review: the one every reply to the
 * officer uses (reply.c), so that the review, the last screen and the
 * SMS confirmation name a number alike: PEMILIH, SAH, TDK SAH, PARTAI,
 * and a choice by its ballot number as on C.Hasil.
 */
static void
menu_label(const struct menu *m, size_t i, char *buf, size_t len)
{
	struct report	 r;

	memset(&r, 0, sizeof(r));
	r.contest = m->contest;
	r.tps = m->tps;
	r.page = m->page;
	r.nvalues = m->form.nvalues;
	if (reply_label_value(REPLY_ID, &r, &m->form, i, buf, len) == -1)
		snprintf(buf, len, "%zu", i);
}

/* "PPWP TPS 3201012001001 hal 0": which report the screens are about. */
static void
menu_ident(const struct menu *m, char *buf, size_t len)
{
	if (m->page >= 0)
		snprintf(buf, len, "%s TPS %013llu hal %d",
		    menu_contests[m->contest], (unsigned long long)m->tps,
		    m->page);
	else
		snprintf(buf, len, "%s TPS %013llu", menu_contests[m->contest],
		    (unsigned long long)m->tps);
}

/* The head of review screen page: which report, on the first only. */
static size_t
menu_review_head(const struct menu *m, int page, int npages, char *buf,
    size_t len)
{
	char	 id[64];

	if (page == 0)
		menu_ident(m, id, sizeof(id));
	else
		id[0] = '\0';
	return (snprintf(buf, len, "Periksa %d/%d%s%s SEQ %u:\n", page + 1,
	    npages, page == 0 ? " " : "", id, m->seq));
}

/*
 * Where each review screen starts: as many values as fit in the room
 * a screen leaves after its head, its foot and the longest reason a
 * wrong input adds. Returns the number of screens.
 */
static int
menu_review_layout(const struct menu *m, size_t *starts)
{
	char	 head[96], name[MENU_NAME_MAX];
	size_t	 i, used, item;
	int	 n = 0;

	for (i = 0; i < m->form.nvalues; ) {
		starts[n] = i;
		used = menu_review_head(m, n, 99, head, sizeof(head)) +
		    MENU_FOOT_MAX + MENU_WHY_MAX;
		do {
			menu_label(m, i, name, sizeof(name));
			item = strlen(name) + 1 + 3 + 2;	/* "N=999, " */
			if (used + item > MENU_SCREEN_MAX && i > starts[n])
				break;
			used += item;
		} while (++i < m->form.nvalues);
		n++;
	}
	return (n);
}

/* One review screen: its values with their names, then what to press. */
static void
menu_review(const struct menu *m, char *buf, size_t len)
{
	char	 name[MENU_NAME_MAX];
	size_t	 starts[TALLY_MAXVALUES + 1], i, off, end;
	int	 pages = menu_review_layout(m, starts);

	end = m->review + 1 < pages ? starts[m->review + 1] :
	    m->form.nvalues;
	off = menu_review_head(m, m->review, pages, buf, len);
	for (i = starts[m->review]; i < end && off < len; i++) {
		menu_label(m, i, name, sizeof(name));
		off += snprintf(buf + off, len - off, "%s=%u%s", name,
		    m->values[i], i + 1 < end ? ", " : "\n");
	}
	if (off < len)
		snprintf(buf + off, len - off, "%s 0 Ubah 00 Awal",
		    m->review + 1 < pages ? "1 Lanjut" : "1 KIRIM");
}

/* The screen of the current step, with nothing wrong. */
static void
menu_show(const struct menu *m, const struct menu_env *env, char *buf,
    size_t len)
{
	char	 id[64], name[MENU_NAME_MAX];

	switch (m->step) {
	case MENU_CONTEST:
		snprintf(buf, len, "Lapor hasil TPS. Pilih jenis:\n1 PPWP "
		    "(Presiden)\n2 DPR\n3 DPD\n4 DPRD Prov\n5 DPRD Kab/Kota%s%s",
		    env->resume != NULL ? "\n9 Lanjut " : "",
		    env->resume != NULL ? env->resume : "");
		break;
	case MENU_TPS:
		snprintf(buf, len, "%s. Ketik kode TPS 13 angka (10 kode desa "
		    "+ 3 no TPS) dari C.Hasil:\n0 Kembali 00 Awal",
		    menu_contests[m->contest]);
		break;
	case MENU_PAGE:
		snprintf(buf, len, "%s TPS %013llu. Ketik halaman: 0 = "
		    "ringkasan, atau no urut partai.\n# Kembali ## Awal",
		    menu_contests[m->contest], (unsigned long long)m->tps);
		break;
	case MENU_VALUES:
		menu_ident(m, id, sizeof(id));
		menu_field(m, env, m->nvalues, name, sizeof(name));
		snprintf(buf, len, "%s\nKetik %s (angka %zu dari %zu), atau "
		    "semua angka sisa dipisah *:\n# Kembali ## Awal", id, name,
		    m->nvalues + 1, m->form.nvalues);
		break;
	case MENU_SEQ:
		snprintf(buf, len, "Ketik SEQ: no pesan = no baris kartu kode "
		    "yg dipakai (1-%d).\n0 Kembali 00 Awal", TALLY_SEQ_MAX);
		break;
	case MENU_CODE:
		snprintf(buf, len, "Ketik KODE 8 angka dari kartu baris %u, "
		    "atau dari MAC.\n0 Kembali 00 Awal", m->seq);
		break;
	case MENU_REVIEW:
		menu_review(m, buf, len);
		break;
	case MENU_SENT:
		snprintf(buf, len, "Laporan sudah dikirim.");
		break;
	}
}

/* The form of the report, once contest, TPS and page are known. */
static int
menu_form(struct menu *m, const struct menu_env *env, const char **why)
{
	enum reason	 r;

	if (election_form(env->election, m->contest, m->tps, m->page,
	    &m->form, &r) == 0)
		return (0);
	switch (r) {
	case REASON_NOT_HELD:
		*why = "pemilihan ini tidak ada di TPS itu";
		break;
	case REASON_PAGE_UNKNOWN:
		*why = "tidak ada partai dgn no itu";
		break;
	default:
		*why = "TPS tidak dikenal";
		break;
	}
	return (-1);
}

/* The TPS step: 13 digits, a province, known to the registry if any. */
static int
menu_tps(struct menu *m, const struct menu_env *env, const char *in,
    const char **why)
{
	struct tps_info	 ti;
	long		 v;
	size_t		 n;

	for (n = 0; in[n] >= '0' && in[n] <= '9'; n++)
		;
	if (in[n] != '\0' || n != TALLY_TPS_DIGITS) {
		*why = "kode TPS harus 13 angka";
		return (-1);
	}
	m->tps = strtoull(in, NULL, 10);
	v = (long)(m->tps / 100000000000ULL);
	if (v < 11) {
		*why = "2 angka pertama = kode provinsi (11-99)";
		return (-1);
	}
	if (env->registry != NULL &&
	    registry_lookup(env->registry, m->tps, &ti) != 1) {
		*why = "TPS tidak terdaftar, periksa kodenya";
		return (-1);
	}
	if (decode_contest_paged(m->contest)) {
		m->step = MENU_PAGE;
		return (0);
	}
	m->page = -1;
	if (menu_form(m, env, why) == -1)
		return (-1);
	m->step = MENU_VALUES;
	return (0);
}

/* The values step: one number, or the rest joined by '*'. */
static int
menu_values(struct menu *m, const char *in, const char **why)
{
	char		 buf[MENU_INPUT_MAX], *p, *tok;
	uint16_t	 v[TALLY_MAXVALUES];
	size_t		 n = 0, left = m->form.nvalues - m->nvalues;
	long		 x;

	snprintf(buf, sizeof(buf), "%s", in);
	for (p = buf; (tok = strsep(&p, "*")) != NULL; ) {
		if ((x = menu_number(tok, 3)) < 0) {
			*why = "ketik angka 0-999, pisahkan dgn *";
			return (-1);
		}
		if (n == left) {
			*why = "terlalu banyak angka";
			return (-1);
		}
		v[n++] = (uint16_t)x;
	}
	memcpy(m->values + m->nvalues, v, n * sizeof(v[0]));
	m->nvalues += n;
	if (m->nvalues == m->form.nvalues)
		m->step = MENU_SEQ;
	return (0);
}

/* An answer to the current step; MENU_WRONG with why when it is not. */
static enum menu_rc
menu_answer(struct menu *m, const struct menu_env *env, const char *in,
    const char **why)
{
	size_t	 starts[TALLY_MAXVALUES + 1];
	long	 v;

	switch (m->step) {
	case MENU_CONTEST:
		if (strcmp(in, "9") == 0 && env->resume != NULL)
			return (MENU_RESUME);
		if ((v = menu_number(in, 1)) < CONTEST_PPWP ||
		    v > CONTEST_DPRDK) {
			*why = "pilih 1 sampai 5";
			return (MENU_WRONG);
		}
		m->contest = (enum contest)v;
		m->step = MENU_TPS;
		break;
	case MENU_TPS:
		if (menu_tps(m, env, in, why) == -1)
			return (MENU_WRONG);
		break;
	case MENU_PAGE:
		if ((v = menu_number(in, 2)) < 0) {
			*why = "ketik 0 atau no urut partai";
			return (MENU_WRONG);
		}
		m->page = (int)v;
		if (menu_form(m, env, why) == -1) {
			m->page = -1;
			return (MENU_WRONG);
		}
		m->step = MENU_VALUES;
		break;
	case MENU_VALUES:
		if (menu_values(m, in, why) == -1)
			return (MENU_WRONG);
		break;
	case MENU_SEQ:
		if ((v = menu_number(in, 4)) < 1) {
			*why = "SEQ adalah angka 1-9999";
			return (MENU_WRONG);
		}
		m->seq = (unsigned)v;
		m->step = MENU_CODE;
		break;
	case MENU_CODE:
		if (menu_number(in, TALLY_CODE_LEN) < 0 ||
		    strlen(in) != TALLY_CODE_LEN) {
			*why = "KODE harus 8 angka";
			return (MENU_WRONG);
		}
		snprintf(m->code, sizeof(m->code), "%s", in);
		m->step = MENU_REVIEW;
		m->review = 0;
		break;
	case MENU_REVIEW:
		if (strcmp(in, "1") != 0) {
			*why = "ketik 1 untuk lanjut";
			return (MENU_WRONG);
		}
		if (m->review + 1 < menu_review_layout(m, starts)) {
			m->review++;
			break;
		}
		m->step = MENU_SENT;
		return (MENU_SUBMIT);
	case MENU_SENT:
		return (MENU_END);
	}
	return (MENU_CON);
}

/* One step back: the previous question, keeping what was typed before. */
static void
menu_back(struct menu *m)
{
	switch (m->step) {
	case MENU_CONTEST:
	case MENU_SENT:
		break;
	case MENU_TPS:
		m->step = MENU_CONTEST;
		break;
	case MENU_PAGE:
		m->step = MENU_TPS;
		break;
	case MENU_VALUES:
		if (m->nvalues > 0)
			m->nvalues--;
		else if (m->page >= 0) {
			m->page = -1;
			m->step = MENU_PAGE;
		} else
			m->step = MENU_TPS;
		break;
	case MENU_SEQ:
		m->nvalues--;
		m->step = MENU_VALUES;
		break;
	case MENU_CODE:
		m->step = MENU_SEQ;
		break;
	case MENU_REVIEW:
		if (m->review > 0)
			m->review--;
		else
			m->step = MENU_CODE;
		break;
	}
}

/* The screen of the current step (for a new or resumed session). */
enum menu_rc
menu_screen(const struct menu *m, const struct menu_env *env, char *buf,
    size_t len)
{
	menu_show(m, env, buf, len);
	return (m->step == MENU_SENT ? MENU_END : MENU_CON);
}

/*
 * One new input: the next screen in buf. MENU_SUBMIT: the report is
 * complete (menu_report gives its text); MENU_RESUME: the officer chose
 * the half-filled report offered by env->resume.
 */
enum menu_rc
menu_input(struct menu *m, const struct menu_env *env, const char *in,
    char *buf, size_t len)
{
	char		 screen[MENU_SCREEN_MAX * 2];
	const char	*why = NULL;
	enum menu_rc	 rc = MENU_CON;

	if (strlen(in) >= MENU_INPUT_MAX)
		why = "terlalu panjang";
	else {
		switch (menu_nav(m, in)) {
		case MENU_BACK:
			menu_back(m);
			break;
		case MENU_START:
			menu_init(m);
			break;
		case MENU_ANSWER:
			rc = menu_answer(m, env, in, &why);
			break;
		}
	}
	if (rc == MENU_SUBMIT || rc == MENU_RESUME)
		return (rc);
	if (rc == MENU_WRONG && why == NULL)
		why = "pilihan tidak ada";
	menu_show(m, env, screen, sizeof(screen));
	if (why != NULL)
		snprintf(buf, len, "Salah: %s.\n%s", why, screen);
	else
		snprintf(buf, len, "%s", screen);
	if (m->step == MENU_SENT)
		return (MENU_END);
	return (rc == MENU_WRONG ? MENU_WRONG : MENU_CON);
}

/* The report as an officer would type it by SMS: digits and '*'. */
int
menu_report(const struct menu *m, char *buf, size_t len)
{
	size_t	 off, i;

	if (m->step != MENU_SENT)
		return (-1);
	off = snprintf(buf, len, "%d*%013llu*%u", (int)m->contest,
	    (unsigned long long)m->tps, m->seq);
	if (m->page >= 0 && off < len)
		off += snprintf(buf + off, len - off, "*%d", m->page);
	for (i = 0; i < m->nvalues && off < len; i++)
		off += snprintf(buf + off, len - off, "*%u", m->values[i]);
	if (off < len)
		off += snprintf(buf + off, len - off, "*%s", m->code);
	return (off < len ? 0 : -1);
}

/* "PPWP TPS 3201012001001, 4 dari 6 angka": a half-filled report. */
void
menu_summary(const struct menu *m, char *buf, size_t len)
{
	char	 id[64];

	if (m->step == MENU_CONTEST || m->step == MENU_TPS) {
		snprintf(buf, len, "%s", m->step == MENU_TPS ?
		    menu_contests[m->contest] : "");
		return;
	}
	menu_ident(m, id, sizeof(id));
	snprintf(buf, len, "%s", id);
}

/* What the store keeps of a half-filled report: the inputs, no form. */
void
menu_save(const struct menu *m, struct menu_saved *sv)
{
	memset(sv, 0, sizeof(*sv));
	snprintf(sv->step, sizeof(sv->step), "%s", menu_step_name(m->step));
	sv->contest = m->contest;
	sv->tps = m->tps;
	sv->page = m->page;
	sv->nvalues = m->nvalues;
	memcpy(sv->values, m->values, m->nvalues * sizeof(m->values[0]));
	sv->seq = m->seq;
	snprintf(sv->code, sizeof(sv->code), "%s", m->code);
	sv->review = m->review;
}

/* A step kept by menu_save: between the TPS and the review. */
static int
menu_step_parse(const char *name, enum menu_step *s)
{
	size_t	 i;

	for (i = MENU_PAGE; i <= MENU_REVIEW; i++)
		if (strcmp(name, menu_steps[i]) == 0) {
			*s = (enum menu_step)i;
			return (0);
		}
	return (-1);
}

/*
 * A saved report back into a menu, its form taken again from the
 * election: -1 if it no longer fits it (another election file, a TPS
 * gone from the registry, a store edited by hand), and then the menu
 * is left at the start.
 */
int
menu_load(struct menu *m, const struct menu_env *env,
    const struct menu_saved *sv)
{
	const char	*why;
	enum menu_step	 step;
	size_t		 i, starts[TALLY_MAXVALUES + 1];
	char		 tps[TALLY_TPS_DIGITS + 1];

	menu_init(m);
	if (menu_step_parse(sv->step, &step) == -1 ||
	    sv->contest < CONTEST_PPWP || sv->contest > CONTEST_DPRDK ||
	    sv->tps > 9999999999999ULL || sv->seq > TALLY_SEQ_MAX ||
	    (sv->code[0] != '\0' && (strlen(sv->code) != TALLY_CODE_LEN ||
	    menu_number(sv->code, TALLY_CODE_LEN) < 0)))
		goto fail;
	m->contest = sv->contest;
	m->step = MENU_TPS;
	snprintf(tps, sizeof(tps), "%013llu", (unsigned long long)sv->tps);
	if (menu_tps(m, env, tps, &why) == -1)
		goto fail;
	if (m->step == MENU_PAGE && step != MENU_PAGE) {
		m->page = sv->page;
		if (sv->page < 0 || menu_form(m, env, &why) == -1)
			goto fail;
	} else if (sv->page != -1 || (step == MENU_PAGE) !=
	    (m->step == MENU_PAGE))
		goto fail;
	if (sv->nvalues > m->form.nvalues || (step == MENU_PAGE ?
	    sv->nvalues != 0 : (step == MENU_VALUES) !=
	    (sv->nvalues < m->form.nvalues)))
		goto fail;
	for (i = 0; i < sv->nvalues; i++)
		if (sv->values[i] > 999)
			goto fail;
	m->nvalues = sv->nvalues;
	memcpy(m->values, sv->values, sv->nvalues * sizeof(sv->values[0]));
	m->seq = sv->seq;
	snprintf(m->code, sizeof(m->code), "%s", sv->code);
	if ((step >= MENU_CODE && m->seq == 0) ||
	    (step == MENU_REVIEW && m->code[0] == '\0'))
		goto fail;
	m->step = step;
	if (step == MENU_REVIEW && (sv->review < 0 ||
	    sv->review >= menu_review_layout(m, starts)))
		goto fail;
	m->review = step == MENU_REVIEW ? sv->review : 0;
	return (0);
fail:
	menu_init(m);
	return (-1);
}
