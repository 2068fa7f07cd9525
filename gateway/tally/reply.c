/*
 * reply: every SMS text a KPPS officer receives. A confirmation echoes
 * the numbers and carries the receipt; a rejection says what is wrong
 * and what to send instead; CEK lists what is recorded; BANTU gives the
 * format. Indonesian by default, English as the alternative.
 *
 * Every text is in the GSM 7-bit default alphabet and fits one SMS
 * (REPLY_MAX characters), but for two: the confirmation of a card-coded
 * report echoes every value with its name and may take up to
 * REPLY_PARTS_MAX parts of a long SMS (REPLY_LONG_MAX characters), and
 * BANTU explains the flags at that length too. The oracle (sim/oracle.c)
 * relies on one more rule:
 * a confirmation carries its receipt's 8 digits exactly once, and a
 * rejection carries no run of exactly 8 digits, except that a SEQ_USED
 * rejection may quote the receipt of the report that used that SEQ.
 * Every text is checked against these rules before it leaves here.
 *
 * The texts are data: reply_texts (the fixed ones), reply_flags (each
 * flag at three levels of verbosity) and reply_rejects (each reason, in
 * parts said under conditions), every one in Indonesian and English,
 * with %-placeholders that reply_render fills in from a struct
 * reply_ctx. The code around them only chooses and fits.
 */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "log.h"
#include "reply.h"
#include "tally.h"

#define REPLY_WORK	1024	/* work buffer: longer than any draft */
#define REPLY_QUOTE	14	/* characters of an officer's text quoted */
#define REPLY_QUOTE_MAX	(REPLY_QUOTE + 3)
#define REPLY_LEVELS	3	/* verbose, short, minimal */
#define REPLY_MIN_ECHO	3	/* values worth a more verbose text */
#define REPLY_CHECK_VALUES 57	/* the longest real form: DPD, 54 + 3 */
#define REPLY_BRIEF_MAX	70	/* a card-coded brief: two fit one SMS */
#define REPLY_TPS_MIN	1100000000000ULL	/* province 11 */
#define REPLY_TPS_MAX	9999999999999ULL

/* A draft text; an overflow makes it unusable, never truncated. */
struct reply_buf {
	char	 s[REPLY_WORK];
	size_t	 off;
	int	 overflow;
};

/*
 * A text in both languages: a template where %x stands for a value of
 * struct reply_ctx (see reply_value) and %% for a percent sign.
 */
struct reply_text {
	const char	*id;
	const char	*en;
};

/* What the templates of one text may say. */
struct reply_ctx {
	enum reply_lang		 lang;
	int			 level;		/* %f: 0 verbose .. 2 codes */
	unsigned		 flags;		/* %f: these flags in words */
	const struct form	*form;		/* %F: its shape, %N choices */
	const char		*receipt;	/* %r */
	const char		*contest;	/* %c: its name */
	const char		*noun;		/* %n: pairs, candidates... */
	char			 quote[REPLY_QUOTE_MAX];	/* %q */
	char			 page[REPLY_QUOTE_MAX];	/* %p, "" if none */
	unsigned long long	 tps;		/* %T */
	unsigned		 seq;		/* %s */
	unsigned		 newer;		/* %b: the SEQ that counts */
	unsigned		 corrects;	/* %k: the SEQ corrected */
	int			 token;		/* %t */
	int			 expected;	/* %e */
	int			 got;		/* %g */
	size_t			 more;		/* %m */
	unsigned long		 sum;		/* %l */
};

/* The fixed texts; a _SHORT text follows its verbose one. */
enum reply_tid {
	RT_REJECTED,
	RT_RECEIVED,
	RT_ALREADY,
	RT_CORRECTS,
	RT_PAGE,
	RT_PAGE_BRIEF,
	RT_OK,
	RT_OK_SHORT,
	RT_STALE,
	RT_STALE_SHORT,
	RT_FLAGGED,
	RT_FLAGGED_SHORT,
	RT_DUPLICATE,
	RT_DUPLICATE_SHORT,
	RT_SUM,
	RT_LABEL_VOTERS,
	RT_LABEL_VALID,
	RT_LABEL_INVALID,
	RT_LABEL_PARTY,
	RT_BRIEF_AGAIN,
	RT_BRIEF_CHECK,
	RT_BRIEF_OLD,
	RT_MERGE_FOOT,
	RT_SHAPE_SUMMARY,
	RT_SHAPE_PARTY,
	RT_CEK,
	RT_CEK_NONE,
	RT_CEK_MORE,
	RT_CEK_FLAGGED,
	RT_BANTU,
	RT_OTHER,
	RT_UNREADABLE,
	RT_TPS_QUOTED,
	RT_TPS_NONE,
	RT_TPS_HOW,
	RT_MAX
};

static const struct reply_text reply_texts[RT_MAX] = {
	[RT_REJECTED] = { "DITOLAK", "REJECTED" },
	[RT_RECEIVED] = { "DITERIMA", "RECEIVED" },
	[RT_ALREADY] = { "SUDAH DITERIMA", "ALREADY RECEIVED" },
	[RT_CORRECTS] = { " (koreksi #%k)", " (corrects #%k)" },
	[RT_PAGE] = { " hal %p", " page %p" },
	[RT_PAGE_BRIEF] = { " h%p", " h%p" },
	[RT_OK] = { " Tanda terima %r, tulis di C.Hasil.",
	    " Receipt %r, write it on C.Hasil." },
	[RT_OK_SHORT] = { " Tanda terima %r.", " Receipt %r." },
	[RT_STALE] = {
	    " Catatan: SEQ #%b yg lebih baru sudah tercatat dan berlaku.",
	    " Note: the newer SEQ #%b is recorded and counts." },
	[RT_STALE_SHORT] = { " #%b lebih baru berlaku.",
	    " Newer #%b counts." },
	[RT_FLAGGED] = {
	    " Tanda terima %r. PERIKSA: %f. Jika angka salah, kirim ulang dgn "
	    "SEQ baru.",
	    " Receipt %r. CHECK: %f. If a number is wrong, resend with a new "
	    "SEQ." },
	[RT_FLAGGED_SHORT] = {
	    " Tanda terima %r. PERIKSA: %f. Salah? kirim SEQ baru.",
	    " Receipt %r. CHECK: %f. Wrong? send new SEQ." },
	[RT_DUPLICATE] = { " Tanda terima tetap %r. Tidak perlu kirim lagi.",
	    " Receipt still %r. No need to send again." },
	[RT_DUPLICATE_SHORT] = { " Tanda terima %r (sama).",
	    " Receipt %r (same)." },
	[RT_SUM] = { " .. jml semua %l.", " .. sum of all %l." },
	[RT_LABEL_VOTERS] = { "PEMILIH", "PEMILIH" },
	[RT_LABEL_VALID] = { "SAH", "SAH" },
	[RT_LABEL_INVALID] = { "TDK SAH", "TIDAK SAH" },
	[RT_LABEL_PARTY] = { "PARTAI", "PARTAI" },
	[RT_BRIEF_AGAIN] = { " ulang", " again" },
	[RT_BRIEF_CHECK] = { " cek %f", " check %f" },
	[RT_BRIEF_OLD] = { " lama", " old" },
	[RT_MERGE_FOOT] = { ". Tulis tanda terima di C.Hasil.",
	    ". Write the receipts on C.Hasil." },
	[RT_SHAPE_SUMMARY] = { "PEMILIH, %N %n, SAH, TDK SAH",
	    "PEMILIH, %N %ns, SAH, TIDAK SAH" },
	[RT_SHAPE_PARTY] = { "PARTAI + %N caleg", "PARTAI + %N candidates" },
	[RT_CEK] = { "CEK %T:", "CEK %T:" },
	[RT_CEK_NONE] = {
	    " belum ada laporan tercatat. Kirim laporan; ketik BANTU utk "
	    "format.",
	    " nothing recorded yet. Send your reports; text BANTU for the "
	    "format." },
	[RT_CEK_MORE] = { " +%m lagi", " +%m more" },
	[RT_CEK_FLAGGED] = { " !=ada catatan.", " !=flagged." },
	[RT_BANTU] = {
	    "Format: PPWP <TPS 13 angka> <SEQ> <PEMILIH> <01> <02> <03> <SAH> "
	    "<TDK SAH> <KODE>. DPR/DPRDP/DPRDK: <HAL> stlh SEQ. Pisah spasi "
	    "atau *. CEK <TPS>. Arti PERIKSA: jumlah = suara pasangan/calon/"
	    "partai dijumlah tidak sama dgn SAH; PEMILIH = SAH + TDK SAH "
	    "tidak sama dgn PEMILIH; DPT = PEMILIH lebih dari DPT + 2%%; "
	    "hal 0 = PARTAI + caleg tidak sama dgn angka partai di hal 0; "
	    "nomor = nomor HP ini tidak terdaftar, hubungi PPK; lama = SEQ "
	    "lebih baru yg berlaku. Angka beda dgn C.Hasil? Kirim ulang dgn "
	    "SEQ baru.",
	    "Format: PPWP <TPS 13 digits> <SEQ> <PEMILIH> <01> <02> <03> "
	    "<SAH> <TIDAK SAH> <CODE>. DPR/DPRDP/DPRDK: <PAGE> after SEQ. "
	    "Check: CEK <TPS>. What CHECK means: sum = the pair/candidate/"
	    "party votes do not add up to SAH; PEMILIH = SAH + TIDAK SAH is "
	    "not PEMILIH; DPT = PEMILIH over DPT + 2%%; page 0 = PARTAI + "
	    "candidates differ from the party on page 0; number = this phone "
	    "is not registered, call the PPK; old = a newer SEQ counts. A "
	    "number differs from C.Hasil? Resend with a new SEQ." },
	[RT_OTHER] = {
	    "Pesan tidak dikenali. Ketik BANTU utk format laporan, atau "
	    "CEK <kode TPS> utk melihat data TPS.",
	    "Message not recognised. Text BANTU for the report format, or "
	    "CEK <TPS code> to see what is recorded." },
	[RT_UNREADABLE] = {
	    "Pesan Anda rusak di jaringan dan tidak terbaca. Kirim lagi.",
	    "Your message was damaged on the way and cannot be read. Send "
	    "it again." },
	[RT_TPS_QUOTED] = { "CEK: kode TPS '%q' salah atau tidak terdaftar.",
	    "CEK: TPS code '%q' is wrong or not registered." },
	[RT_TPS_NONE] = { "CEK: kode TPS tidak ada.", "CEK: no TPS code." },
	[RT_TPS_HOW] = {
	    " Kirim CEK lalu 13 angka kode TPS, mis. CEK 3201012001001.",
	    " Send CEK and the 13-digit TPS code, e.g. CEK 3201012001001." },
};

/* What the choices of a summary form are called, by contest. */
static const struct reply_text reply_nouns[CONTEST_MAX + 1] = {
	[CONTEST_NONE] = { "pilihan", "choice" },
	[CONTEST_PPWP] = { "pasangan", "pair" },
	[CONTEST_DPR] = { "partai", "party" },
	[CONTEST_DPD] = { "calon", "candidate" },
	[CONTEST_DPRDP] = { "partai", "party" },
	[CONTEST_DPRDK] = { "partai", "party" },
};

/*
 * A flag in words at each level: verbose, short, and a word or two that
 * BANTU explains (for merged and over-long confirmations).
 */
struct reply_flag {
	unsigned		 bit;
	struct reply_text	 text[REPLY_LEVELS];
};

static const struct reply_flag reply_flags[] = {
	{ FLAG_SUM, {
	    { "jumlah suara semua %n tidak sama dgn SAH",
	      "the %n votes do not add up to SAH" },
	    { "jumlah %n tidak sama dgn SAH", "%n votes do not add up to SAH" },
	    { "jumlah", "sum" } } },
	{ FLAG_TOTAL, {
	    { "SAH ditambah TIDAK SAH tidak sama dgn PEMILIH",
	      "SAH plus TIDAK SAH is not PEMILIH" },
	    { "SAH+TDK SAH tidak sama dgn PEMILIH",
	      "SAH+TIDAK SAH is not PEMILIH" },
	    { "PEMILIH", "PEMILIH" } } },
	{ FLAG_DPT, {
	    { "PEMILIH lebih banyak dari DPT ditambah 2%%",
	      "PEMILIH is more than DPT plus 2%%" },
	    { "PEMILIH lebih dari DPT+2%%", "PEMILIH over DPT+2%%" },
	    { "DPT", "DPT" } } },
	{ FLAG_PARTY, {
	    { "PARTAI ditambah suara caleg tidak sama dgn angka partai ini "
	      "di hal 0", "PARTAI plus the candidates is not this party's "
	      "number on page 0" },
	    { "partai+caleg tidak sama dgn hal 0",
	      "party+candidates differ from page 0" },
	    { "hal 0", "page 0" } } },
	{ FLAG_SENDER, {
	    { "nomor HP ini tidak terdaftar utk TPS ini, hubungi PPK",
	      "this phone is not registered for this TPS, call the PPK" },
	    { "nomor tidak terdaftar", "number not registered" },
	    { "nomor", "number" } } },
	{ FLAG_STALE, {
	    { "SEQ #%b yg lebih baru sudah tercatat",
	      "the newer SEQ #%b is already recorded" },
	    { "ada #%b lebih baru", "newer #%b" },
	    { "lama", "old" } } },
};
#define REPLY_NFLAGS	(sizeof(reply_flags) / sizeof(reply_flags[0]))

/*
 * A rejection is said in parts, each when all its RJ_* conditions hold;
 * an RJ_ELSE part only if no part since the last plain one was said.
 */
#define RJ_BRIEF	0x001	/* the short form, which always fits */
#define RJ_FULL		0x002	/* a longer form */
#define RJ_QUOTE	0x004	/* there is an offending text to quote */
#define RJ_REPORT	0x008	/* the report was decoded */
#define RJ_PAGE		0x010	/* ... and has a page */
#define RJ_EXPECT	0x020	/* the count of values the form needs */
#define RJ_LOCKED	0x040	/* this failure locked the sender out */
#define RJ_RECEIPT	0x080	/* the receipt of the report that used SEQ */
#define RJ_ELSE		0x100	/* only if its chain said nothing yet */
#define REPLY_PARTS	5

struct reply_part {
	unsigned		 when;
	struct reply_text	 text;
};

/* Indexed by reason; REASON_NONE stands for any reason unknown here. */
static const struct reply_part reply_rejects[REASON_MAX][REPLY_PARTS] = {
	[REASON_NONE] = {
	    { 0, { "laporan tidak bisa diproses. Ketik BANTU utk format.",
	      "the report cannot be processed. Text BANTU for the "
	      "format." } } },
	[REASON_EMPTY] = {
	    { RJ_BRIEF, { "pesan kosong. Ketik BANTU utk format.",
	      "empty message. Text BANTU for the format." } },
	    { RJ_ELSE, { "pesan kosong. Kirim mis. PPWP <TPS> <SEQ> "
	      "<angka..> <KODE>. Ketik BANTU utk format.",
	      "empty message. Send e.g. PPWP <TPS> <SEQ> <numbers..> "
	      "<CODE>. Text BANTU for the format." } } },
	[REASON_CONTEST] = {
	    { RJ_BRIEF, { "Awali dgn 1 PPWP, 2 DPR, 3 DPD, 4 DPRDP atau "
	      "5 DPRDK. Ketik BANTU.", "Start with 1 PPWP, 2 DPR, 3 DPD, "
	      "4 DPRDP or 5 DPRDK. Text BANTU." } },
	    { RJ_ELSE, { "'%q' bukan jenis pemilihan. Awali dgn 1 PPWP, "
	      "2 DPR, 3 DPD, 4 DPRDP atau 5 DPRDK. Ketik BANTU.",
	      "'%q' is not a contest. Start with 1 PPWP, 2 DPR, 3 DPD, "
	      "4 DPRDP or 5 DPRDK. Text BANTU." } } },
	[REASON_TPS_FORMAT] = {
	    { RJ_BRIEF, { "kode TPS harus 13 angka. Ketik BANTU.",
	      "the TPS code needs 13 digits. Text BANTU." } },
	    { RJ_ELSE | RJ_QUOTE, { "kode TPS '%q' salah: harus 13 angka "
	      "(10 kode desa + 3 no TPS) dari C.Hasil. Kirim lagi dgn SEQ "
	      "sama.", "TPS code '%q' is wrong: it needs 13 digits "
	      "(10 village + 3 TPS) from C.Hasil. Send again, same SEQ." } },
	    { RJ_ELSE, { "kode TPS tidak ada: tulis 13 angka (10 kode desa "
	      "+ 3 no TPS) stlh jenis. Kirim lagi dgn SEQ sama.",
	      "no TPS code: put its 13 digits (10 village + 3 TPS) after "
	      "the contest. Send again, same SEQ." } } },
	[REASON_SEQ] = {
	    { RJ_BRIEF, { "SEQ harus 1-9999. Ketik BANTU.",
	      "SEQ must be 1-9999. Text BANTU." } },
	    { RJ_ELSE | RJ_QUOTE, { "SEQ '%q' salah: harus 1-9999, no urut "
	      "pesan (= baris kartu) stlh kode TPS.", "SEQ '%q' is wrong: "
	      "1-9999, the message number (= card row) after the TPS "
	      "code." } },
	    { RJ_ELSE, { "SEQ tidak ada: tulis no urut pesan (= baris "
	      "kartu) stlh kode TPS.", "no SEQ: put the message number "
	      "(= card row) after the TPS code." } } },
	[REASON_PAGE] = {
	    { RJ_BRIEF, { "stlh SEQ tulis halaman: 0 atau no partai.",
	      "after SEQ put the page: 0 or the party number." } },
	    { RJ_ELSE | RJ_QUOTE, { "halaman '%q' bukan angka: stlh SEQ "
	      "tulis 0 (ringkasan) atau no urut partai.", "page '%q' is not "
	      "a number: after SEQ put 0 (summary) or the party "
	      "number." } },
	    { RJ_ELSE, { "halaman tidak ada: stlh SEQ tulis 0 (ringkasan) "
	      "atau no urut partai.", "no page: after SEQ put 0 (summary) "
	      "or the party number." } } },
	[REASON_VALUE_FORMAT] = {
	    { RJ_BRIEF, { "kata ke-%t salah. Perbaiki, kirim lagi.",
	      "word %t is wrong. Fix it, send again." } },
	    { RJ_ELSE, { "kata ke-%t '%q' bukan angka. Perbaiki, kirim lagi "
	      "dgn SEQ sama.", "word %t '%q' is not a number. Fix it, send "
	      "again with the same SEQ." } } },
	[REASON_VALUE_RANGE] = {
	    { RJ_BRIEF, { "kata ke-%t salah. Perbaiki, kirim lagi.",
	      "word %t is wrong. Fix it, send again." } },
	    { RJ_ELSE, { "kata ke-%t '%q' lebih dari 999, mungkin "
	      "dobel/tergabung. Perbaiki, kirim lagi dgn SEQ sama.",
	      "word %t '%q' is over 999: typed twice or merged? Fix it, "
	      "send again, same SEQ." } } },
	[REASON_CODE_FORMAT] = {
	    { RJ_BRIEF, { "akhiri dgn kode 8 angka. Kirim lagi.",
	      "end with the 8-digit code. Send again." } },
	    { RJ_ELSE | RJ_QUOTE, { "akhir pesan harus kode 8 angka (MAC "
	      "atau kartu baris SEQ), bukan '%q'. Kirim lagi dgn SEQ sama.",
	      "end with the 8-digit code (MAC or card row SEQ), not '%q'. "
	      "Send again with the same SEQ." } },
	    { RJ_ELSE, { "kode 8 angka tidak ada di akhir pesan (MAC atau "
	      "kartu baris SEQ). Kirim lagi dgn SEQ sama.", "no 8-digit code "
	      "at the end (MAC or card row SEQ). Send again with the same "
	      "SEQ." } } },
	[REASON_TOO_LONG] = {
	    { 0, { "pesan terlalu panjang. Kirim satu jenis/halaman per "
	      "pesan.", "message too long. Send one contest or page per "
	      "message." } } },
	[REASON_COUNT] = {
	    { RJ_FULL | RJ_EXPECT, { "perlu %e angka (%F), ada %g. Hitung "
	      "lagi dari C.Hasil, kirim dgn SEQ sama.", "needs %e numbers "
	      "(%F), got %g. Count the C.Hasil boxes, send again, same "
	      "SEQ." } },
	    { RJ_ELSE | RJ_EXPECT, { "perlu %e angka, ada %g. Ketik BANTU.",
	      "needs %e numbers, got %g. Text BANTU." } },
	    { RJ_ELSE, { "jumlah angka salah (ada %g). Ketik BANTU utk "
	      "format.", "wrong count of numbers (got %g). Text BANTU for "
	      "the format." } } },
	[REASON_TPS_UNKNOWN] = {
	    { RJ_FULL | RJ_REPORT, { "TPS %T tidak terdaftar. Periksa kode "
	      "TPS; jika benar, hubungi operator/PPK.", "TPS %T is not "
	      "registered. Check the TPS code; if it is right, call the "
	      "operator/PPK." } },
	    { RJ_ELSE, { "TPS tidak terdaftar. Periksa kode TPS atau hubungi "
	      "PPK.", "TPS not registered. Check the code or call the "
	      "PPK." } } },
	[REASON_NOT_HELD] = {
	    { RJ_FULL | RJ_REPORT, { "%c tidak ada di TPS %T. Periksa angka "
	      "jenis: 1 PPWP 2 DPR 3 DPD 4 DPRDP 5 DPRDK.", "no %c at TPS "
	      "%T. Check the contest: 1 PPWP 2 DPR 3 DPD 4 DPRDP "
	      "5 DPRDK." } },
	    { RJ_ELSE, { "jenis ini tidak ada di TPS ini. Periksa angka "
	      "jenis.", "contest not held at this TPS. Check the contest "
	      "digit." } } },
	[REASON_PAGE_UNKNOWN] = {
	    { RJ_FULL | RJ_PAGE, { "halaman %p tidak ada di surat suara %c "
	      "TPS ini. Periksa no urut partai (0 = ringkasan).", "page %p "
	      "is not on this TPS's %c ballot. Check the party number "
	      "(0 = summary)." } },
	    { RJ_ELSE, { "halaman tidak ada di surat suara. Periksa no "
	      "partai.", "no such page on the ballot. Check the party "
	      "number." } } },
	[REASON_NO_KEY] = {
	    { RJ_BRIEF, { "kode belum bisa diperiksa. Hubungi operator.",
	      "code cannot be checked here. Call the operator." } },
	    { RJ_ELSE, { "kode belum bisa diperiksa di server ini (kunci "
	      "provinsi). Laporan disimpan. Hubungi operator/PPK.", "this "
	      "server cannot check the code yet (province key). Report "
	      "kept. Call the operator/PPK." } } },
	[REASON_CODE_BAD] = {
	    { RJ_FULL | RJ_REPORT, { "kode salah. Pakai kode kartu baris %s "
	      "(= SEQ) atau MAC, periksa angkanya, kirim lagi.", "wrong "
	      "code. Use card row %s (= SEQ) or the MAC, check the digits, "
	      "send again." } },
	    { RJ_ELSE, { "kode salah. Periksa MAC atau kartu baris SEQ.",
	      "wrong code. Check the MAC or the card row SEQ." } },
	    { RJ_BRIEF | RJ_LOCKED, { " Nomor diblokir sementara.",
	      " Number blocked for a while." } },
	    { RJ_ELSE | RJ_LOCKED, { " Nomor ini kini diblokir sementara "
	      "utk TPS ini; hubungi PPK.", " This number is now blocked for "
	      "this TPS for a while; call the PPK." } } },
	[REASON_LOCKED] = {
	    { RJ_FULL | RJ_REPORT, { "nomor ini diblokir sementara utk TPS "
	      "%T krn kode salah berulang. Coba lagi nanti atau hubungi "
	      "PPK/operator.", "this number is blocked for TPS %T for a "
	      "while after repeated wrong codes. Try later or call the "
	      "PPK/operator." } },
	    { RJ_ELSE, { "nomor diblokir sementara utk TPS ini. Hubungi "
	      "PPK/operator.", "number blocked for this TPS for a while. "
	      "Call the PPK/operator." } } },
	[REASON_SEQ_USED] = {
	    { RJ_BRIEF, { "SEQ sudah dipakai. Pakai SEQ berikutnya.",
	      "SEQ already used. Use the next SEQ." } },
	    { RJ_ELSE | RJ_REPORT | RJ_RECEIPT, { "SEQ %s sudah dipakai utk "
	      "angka lain (tanda terima %r). Kirim lagi dgn SEQ berikutnya "
	      "dan kode barisnya.", "SEQ %s was already used for other "
	      "numbers (receipt %r). Send again with the next SEQ and its "
	      "card row." } },
	    { RJ_ELSE | RJ_REPORT, { "SEQ %s sudah dipakai utk angka lain. "
	      "Kirim lagi dgn SEQ berikutnya dan kode barisnya.", "SEQ %s "
	      "was already used for other numbers. Send again with the next "
	      "SEQ and its card row." } },
	    { RJ_ELSE | RJ_RECEIPT, { "SEQ sudah dipakai utk angka lain "
	      "(tanda terima %r). Kirim lagi dgn SEQ berikutnya dan kode "
	      "barisnya.", "SEQ was already used for other numbers (receipt "
	      "%r). Send again with the next SEQ and its card row." } },
	    { RJ_ELSE, { "SEQ sudah dipakai utk angka lain. Kirim lagi dgn "
	      "SEQ berikutnya dan kode barisnya.", "SEQ was already used for "
	      "other numbers. Send again with the next SEQ and its card "
	      "row." } } },
	[REASON_DIGITS] = {
	    { RJ_BRIEF, { "ketik angka dgn angka biasa 0-9. Kirim lagi.",
	      "type the numbers with the normal digits 0-9. Send again." } },
	    { RJ_ELSE, { "angka Arab/lain tdk terbaca. Ketik semua angka dgn "
	      "angka biasa HP 0-9 (ganti bahasa keyboard), kirim lagi dgn "
	      "SEQ sama.", "Arabic or other digits cannot be read. Type all "
	      "numbers with the phone's normal digits 0-9 (change the "
	      "keyboard language), send again, same SEQ." } } },
	[REASON_LIKE_PPWP] = {
	    { RJ_FULL | RJ_REPORT, { "angka ini spt laporan PPWP, bukan %c: "
	      "utk PPWP angka pertama harus 1. Kirim lagi dgn SEQ sama.",
	      "these numbers look like a PPWP report, not %c: for PPWP the "
	      "first number must be 1. Send again, same SEQ." } },
	    { RJ_ELSE, { "spt laporan PPWP: angka pertama harus 1. Kirim "
	      "lagi.", "looks like a PPWP report: the first number must be "
	      "1. Send again." } } },
	[REASON_SEQ_MISSING] = {
	    { RJ_BRIEF, { "SEQ tidak ada: tulis SEQ stlh kode TPS.",
	      "no SEQ: put the SEQ after the TPS code." } },
	    { RJ_ELSE, { "SEQ tidak ada: stlh kode TPS tulis no urut pesan "
	      "(= baris kartu), lalu sisanya. Kirim lagi.", "the SEQ is "
	      "missing: after the TPS code put the message number (= card "
	      "row), then the rest. Send again." } } },
	[REASON_CODE_PLACE] = {
	    { RJ_BRIEF, { "kode 8 angka ditulis paling akhir. Kirim lagi.",
	      "the 8-digit code goes last. Send again." } },
	    { RJ_ELSE, { "kata ke-%t '%q' spt kode 8 angka, di tempat "
	      "SEQ/halaman. Kode ditulis paling akhir. Kirim lagi dgn SEQ "
	      "sama.", "word %t '%q' looks like the 8-digit code, where the "
	      "SEQ/page goes. The code goes last. Send again, same SEQ." } } },
};

/* Characters of the GSM 7-bit basic table outside ASCII. */
static const uint32_t reply_gsm_basic[] = {
	0x00a3, 0x00a5, 0x00e8, 0x00e9, 0x00f9, 0x00ec, 0x00f2, 0x00c7,
	0x00d8, 0x00f8, 0x00c5, 0x00e5, 0x0394, 0x03a6, 0x0393, 0x039b,
	0x03a9, 0x03a0, 0x03a8, 0x03a3, 0x0398, 0x039e, 0x00c6, 0x00e6,
	0x00df, 0x00c9, 0x00a4, 0x00a1, 0x00c4, 0x00d6, 0x00d1, 0x00dc,
	0x00a7, 0x00bf, 0x00e4, 0x00f6, 0x00f1, 0x00fc, 0x00e0,
};

static void	reply_init(struct reply_buf *);
static void	reply_add(struct reply_buf *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static int	reply_fits(const struct reply_buf *);
static int	reply_fits_str(const char *);
static size_t	reply_runs8(const char *, char *);
static int	reply_is_code(const char *);
static void	reply_quote(const char *, char *, size_t);
static void	reply_num(unsigned long long, char *, size_t);
static int	reply_out(const char *, char *, size_t);
static void	reply_render(const struct reply_ctx *,
		    const struct reply_text *, struct reply_buf *);
static void	reply_flag_list(const struct reply_ctx *, struct reply_buf *);
static void
reply_init(struct reply_buf *b)
{
	b->s[0] = '\0';
	b->off = 0;
	b->overflow = 0;
}

/* printf onto a draft; what does not fit makes it unusable. */
static void
reply_add(struct reply_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->off, sizeof(b->s) - b->off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(b->s) - b->off) {
		b->overflow = 1;
		b->s[b->off] = '\0';
		return;
	}
	b->off += (size_t)n;
}

/* n bytes of str onto a draft: reply_add(b, "%.*s", n, str) without printf. */
static void
reply_putn(struct reply_buf *b, const char *str, size_t n)
{
	if (b->overflow)
		return;
	if (n >= sizeof(b->s) - b->off) {
		b->overflow = 1;
		b->s[b->off] = '\0';
		return;
	}
	memcpy(b->s + b->off, str, n);
	b->off += n;
	b->s[b->off] = '\0';
}

/* A string onto a draft: reply_add(b, "%s", str) without printf. */
static void
reply_puts(struct reply_buf *b, const char *str)
{
	reply_putn(b, str, strlen(str));
}

/* A number onto a draft: reply_add(b, "%0*llu", width, v) without printf. */
static void
reply_putw(struct reply_buf *b, unsigned long long v, int width)
{
	char	 d[32];

	fmt_uint(d, sizeof(d), v, width);
	reply_puts(b, d);
}

/* A number onto a draft: reply_add(b, "%llu", v) without printf. */
static void
reply_putu(struct reply_buf *b, unsigned long long v)
{
	reply_putw(b, v, 0);
}

/* Whether a text fits one SMS in the GSM 7-bit alphabet. */
static int
reply_fits_str(const char *s)
{
	size_t	 n = reply_gsm_length(s);

	return (n != (size_t)-1 && n <= REPLY_MAX);
}

/* Whether a text fits max septets: one SMS, or at most REPLY_PARTS_MAX. */
static int
reply_fits_max(const char *s, size_t max)
{
	int	 parts;

	if (max <= REPLY_MAX)
		return (reply_fits_str(s) && reply_gsm_length(s) <= max);
	parts = reply_parts(s);
	return (parts > 0 && parts <= REPLY_PARTS_MAX &&
	    reply_gsm_length(s) <= max);
}

/* Whether a draft is whole and fits one SMS. */
static int
reply_fits(const struct reply_buf *b)
{
	return (!b->overflow && reply_fits_str(b->s));
}

/* Septets of one character: 1, 2 (extension table) or 0 (none). */
static int
reply_gsm_char(uint32_t cp)
{
	size_t	 i;

	if (cp == '\n' || cp == '\r')
		return (1);
	if (cp == '\f')
		return (2);
	if (cp < 0x20 || cp == 0x7f || cp == '`')
		return (0);
	if (cp < 0x80) {
		switch (cp) {	/* the extension table's ASCII */
		case '[': case '\\': case ']': case '^':
		case '{': case '|': case '}': case '~':
			return (2);
		default:
			return (1);
		}
	}
	if (cp == 0x20ac)		/* euro sign */
		return (2);
	for (i = 0; i < sizeof(reply_gsm_basic) / sizeof(reply_gsm_basic[0]);
	    i++)
		if (reply_gsm_basic[i] == cp)
			return (1);
	return (0);
}

/*
 * Septets a UTF-8 text takes in the GSM 7-bit default alphabet, or
 * (size_t)-1 if a character is not in it or the UTF-8 is broken.
 */
size_t
reply_gsm_length(const char *s)
{
	static unsigned char	 ascii[0x80];
	static int		 ascii_ready;
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 cp;
	size_t			 n = 0;
	int			 extra, w;

	if (s == NULL)
		return ((size_t)-1);
	/* ASCII by a table (the search for the longest confirmation that
	 * fits measures its drafts many times: 5% of a report's work). */
	if (!ascii_ready) {
		for (cp = 0; cp < 0x80; cp++)
			ascii[cp] = (unsigned char)reply_gsm_char(cp);
		ascii_ready = 1;
	}
	while (*p != '\0') {
		if (*p < 0x80) {
			if ((w = ascii[*p++]) == 0)
				return ((size_t)-1);
			n += (size_t)w;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			cp = *p++ & 0x1f;
			extra = 1;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p++ & 0x0f;
			extra = 2;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p++ & 0x07;
			extra = 3;
		} else
			return ((size_t)-1);
		for (; extra > 0; extra--, p++) {
			if ((*p & 0xc0) != 0x80)
				return ((size_t)-1);
			cp = (cp << 6) | (*p & 0x3f);
		}
		if ((w = reply_gsm_char(cp)) == 0)
			return ((size_t)-1);
		n += (size_t)w;
	}
	return (n);
}

/*
 * The SMS a text takes in the GSM 7-bit alphabet, cut as the worker
 * (libGammu) and the simulator cut it: one up to REPLY_MAX septets, else
 * parts of REPLY_PART, never inside a two-septet character. -1 if a
 * character is not in the alphabet.
 */
int
reply_parts(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 one[5];
	size_t			 total, in = 0, k;
	int			 parts = 1, w;

	if ((total = reply_gsm_length(s)) == (size_t)-1)
		return (-1);
	if (total <= REPLY_MAX)
		return (total == 0 ? 0 : 1);
	while (*p != '\0') {
		for (k = 1; k < 4 && (p[k] & 0xc0) == 0x80; k++)
			;
		memcpy(one, p, k);
		one[k] = '\0';
		w = (int)reply_gsm_length(one);
		if (in + (size_t)w > REPLY_PART) {
			parts++;
			in = 0;
		}
		in += (size_t)w;
		p += k;
	}
	return (parts);
}

/* Count runs of exactly 8 digits; copy the first into first[9]. */
static size_t
reply_runs8(const char *s, char *first)
{
	const char	*p = s, *start;
	size_t		 n = 0;

	while (*p != '\0') {
		if (!isdigit((unsigned char)*p)) {
			p++;
			continue;
		}
		for (start = p; isdigit((unsigned char)*p); p++)
			;
		if (p - start != TALLY_CODE_LEN)
			continue;
		if (n == 0 && first != NULL) {
			memcpy(first, start, TALLY_CODE_LEN);
			first[TALLY_CODE_LEN] = '\0';
		}
		n++;
	}
	return (n);
}

/* Exactly 8 digits: a receipt or a code, nothing else. */
static int
reply_is_code(const char *s)
{
	size_t	 i;

	for (i = 0; i < TALLY_CODE_LEN; i++)
		if (!isdigit((unsigned char)s[i]))
			return (0);
	return (s[TALLY_CODE_LEN] == '\0');
}

/*
 * Quote what the officer typed, safely: GSM characters only (anything
 * else becomes '?'), at most REPLY_QUOTE of them, and never a run of
 * exactly 8 digits (the oracle would take it for a receipt): such a run
 * is cut after 7 digits. A shortened quote ends in "..".
 */
static void
reply_quote(const char *in, char *out, size_t outlen)
{
	const unsigned char	*p;
	size_t			 o = 0, n = 0, run;
	int			 cut = 0;
	char			 c;

	if (outlen < REPLY_QUOTE_MAX) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	for (p = (const unsigned char *)(in != NULL ? in : ""); *p != '\0';
	    p++) {
		if ((*p & 0xc0) == 0x80)	/* UTF-8 continuation */
			continue;
		if (*p < 0x80 && (isalnum(*p) || strchr(" .,-/:+*#", *p)))
			c = (char)*p;
		else
			c = '?';
		if (n == REPLY_QUOTE) {
			cut = 1;
			break;
		}
		out[o++] = c;
		n++;
	}
	out[o] = '\0';
	for (n = 0; n < o; n += run ? run : 1) {
		for (run = 0; n + run < o &&
		    isdigit((unsigned char)out[n + run]); run++)
			;
		if (run == TALLY_CODE_LEN) {
			out[n + TALLY_CODE_LEN - 1] = '\0';
			o = n + TALLY_CODE_LEN - 1;
			cut = 1;
			break;
		}
	}
	if (cut)
		snprintf(out + o, outlen - o, "..");
}

/* A number the officer typed (a page): never as exactly 8 digits. */
static void
reply_num(unsigned long long v, char *buf, size_t len)
{
	char	 tmp[32];

	fmt_uint(tmp, sizeof(tmp), v, 0);
	reply_quote(tmp, buf, len);
}

/* Hand a text over; a buffer too small is an error, never a cut text. */
static int
reply_out(const char *s, char *out, size_t outlen)
{
	size_t	 n = strlen(s);

	if (out == NULL || n >= outlen) {
		log_warnx("reply: buffer of %zu bytes too small for %zu",
		    outlen, n + 1);
		return (-1);
	}
	memcpy(out, s, n + 1);
	return (0);
}

/* A text in the language asked for. */
static const char *
reply_pick(enum reply_lang lang, const struct reply_text *t)
{
	return (lang == REPLY_EN ? t->en : t->id);
}

/* A fixed text, rendered. */
static void
reply_say(const struct reply_ctx *c, enum reply_tid id, struct reply_buf *b)
{
	reply_render(c, &reply_texts[id], b);
}

/* The value of the placeholder %ph as text; NULL for an unknown one. */
static const char *
reply_value(const struct reply_ctx *c, char ph, char *num, size_t len)
{
	switch (ph) {
	case '%':
		return ("%");
	case 'q':
		return (c->quote);
	case 'r':
		return (c->receipt);
	case 'c':
		return (c->contest);
	case 'p':
		return (c->page);
	case 'n':
		return (c->noun);
	case 'T':
		snprintf(num, len, "%013llu", c->tps);
		break;
	case 's':
	case 'b':
	case 'k':
		snprintf(num, len, "%u", ph == 's' ? c->seq : ph == 'b' ?
		    c->newer : c->corrects);
		break;
	case 't':
	case 'e':
	case 'g':
		snprintf(num, len, "%d", ph == 't' ? c->token : ph == 'e' ?
		    c->expected : c->got);
		break;
	case 'N':
		if (c->form == NULL)
			return (NULL);
		snprintf(num, len, "%zu", c->form->nchoices);
		break;
	case 'm':
		snprintf(num, len, "%zu", c->more);
		break;
	case 'l':
		snprintf(num, len, "%lu", c->sum);
		break;
	default:
		return (NULL);
	}
	return (num);
}

/*
 * Render a template: %F is the form's shape, %f the flags in words,
 * any other placeholder a value (reply_value). An unknown or unset one
 * makes the draft unusable.
 */
static void
reply_render(const struct reply_ctx *c, const struct reply_text *t,
    struct reply_buf *b)
{
	const char	*p = reply_pick(c->lang, t), *v;
	char		 num[32];
	size_t		 n;

	while (*p != '\0') {
		n = strcspn(p, "%");
		reply_putn(b, p, n);
		if (p[n] == '\0')
			break;
		p += n + 1;
		if (*p == 'F' && c->form != NULL)
			reply_say(c, c->form->kind == FORM_PARTY ?
			    RT_SHAPE_PARTY : RT_SHAPE_SUMMARY, b);
		else if (*p == 'f')
			reply_flag_list(c, b);
		else if ((v = reply_value(c, *p, num, sizeof(num))) != NULL)
			reply_puts(b, v);
		else
			b->overflow = 1;
		if (*p != '\0')
			p++;
	}
}

/* Whether the report is decoded well enough to name it in a reply. */
static int
reply_valid_report(const struct reply_msg *msg)
{
	const struct report	*r = &msg->report;

	return (msg->decoded && r->contest >= CONTEST_PPWP &&
	    r->contest <= CONTEST_DPRDK && r->tps >= REPLY_TPS_MIN &&
	    r->tps <= REPLY_TPS_MAX && r->seq >= 1 && r->seq <= TALLY_SEQ_MAX);
}

/* The values a report gives the templates: contest, TPS, page, SEQ. */
static void
reply_ctx_report(struct reply_ctx *c, enum reply_lang lang,
    const struct report *r)
{
	memset(c, 0, sizeof(*c));
	c->lang = lang;
	c->contest = decode_contest_name(r->contest);
	c->noun = reply_pick(lang, &reply_nouns[r->contest > CONTEST_NONE &&
	    r->contest <= CONTEST_MAX ? r->contest : CONTEST_NONE]);
	c->tps = (unsigned long long)r->tps;
	c->seq = r->seq;
	if (r->page >= 0)
		reply_num((unsigned long long)r->page, c->page,
		    sizeof(c->page));
}

#define IDENT_FULL	0	/* DPR 3201012001001 hal 2 #3 */
#define IDENT_BRIEF	1	/* DPR h2 #3 */
#define IDENT_NOTPS	2	/* DPR hal 2 #3 */

/* Which report this is about, in one of the IDENT_* forms. */
static void
reply_ident(const struct reply_ctx *c, int form, struct reply_buf *b)
{
	reply_puts(b, c->contest);
	if (form == IDENT_FULL) {
		reply_puts(b, " ");
		reply_putw(b, c->tps, 13);
	}
	if (c->page[0] != '\0')
		reply_say(c, form == IDENT_BRIEF ? RT_PAGE_BRIEF : RT_PAGE, b);
	reply_puts(b, " #");
	reply_putu(b, c->seq);
}

/* The flags c->flags in words at c->level, in the order of the table. */
static void
reply_flag_list(const struct reply_ctx *c, struct reply_buf *b)
{
	size_t	 i;
	int	 first = 1;
	int	 level = c->level < REPLY_LEVELS ? c->level : REPLY_LEVELS - 1;

	for (i = 0; i < REPLY_NFLAGS; i++) {
		if ((c->flags & reply_flags[i].bit) == 0)
			continue;
		if (!first)
			reply_puts(b, level < REPLY_LEVELS - 1 ? "; " : ",");
		reply_render(c, &reply_flags[i].text[level], b);
		first = 0;
	}
}

/* "DITERIMA PPWP 3201012001001 #2 (koreksi #1):" */
static void
reply_confirm_head(const struct reply_ctx *c, enum verdict v, int level,
    struct reply_buf *b)
{
	reply_say(c, v == VERDICT_DUPLICATE ? RT_ALREADY : RT_RECEIVED, b);
	reply_puts(b, " ");
	reply_ident(c, IDENT_FULL, b);
	if (v != VERDICT_DUPLICATE && c->corrects != 0 &&
	    level < REPLY_LEVELS - 1)
		reply_say(c, RT_CORRECTS, b);
	reply_puts(b, ":");
}

/* Everything after the values: receipt, what looks wrong, what to do. */
static void
reply_confirm_tail(const struct reply_ctx *c, enum verdict v,
    unsigned flags, int level, struct reply_buf *b)
{
	struct reply_ctx	 f = *c;
	int			 shorter = level > 0;

	switch (v) {
	case VERDICT_DUPLICATE:
		reply_say(c, RT_DUPLICATE + shorter, b);
		return;
	case VERDICT_FLAGGED:
		/* Minimal: only what needs the officer's attention. */
		f.flags = level == REPLY_LEVELS - 1 ? flags & ~FLAG_STALE :
		    flags;
		f.level = level;
		reply_say(&f, RT_FLAGGED + shorter, b);
		return;
	default:
		reply_say(c, RT_OK + shorter, b);
		if (flags & FLAG_STALE)
			reply_say(c, RT_STALE + shorter, b);
		return;
	}
}

#define ECHO_NAMED	0	/* PEMILIH=269 1=63 2=181 SAH=260 ... */
#define ECHO_PLAIN	1	/* 269 63 181 16 260 9 */
#define ECHO_SUM	2	/* leading values .. and the sum of all */
#define ECHO_STYLES	3

/*
 * The name of value i as on C.Hasil: PEMILIH, SAH, TDK SAH and PARTAI
 * in words; a choice by its number on the ballot (a pair, a candidate,
 * or on page 0 a party's ballot number when the form is known).
 */
static void
reply_label(const struct reply_ctx *c, const struct report *r, size_t i,
    struct reply_buf *b)
{
	const struct form	*f = c->form;
	size_t			 n = r->nvalues;

	if (r->page > 0) {
		if (i == 0)
			reply_say(c, RT_LABEL_PARTY, b);
		else
			reply_putu(b, i);
		return;
	}
	if (n < 3)
		reply_putu(b, i + 1);
	else if (i == 0)
		reply_say(c, RT_LABEL_VOTERS, b);
	else if (i == n - 2)
		reply_say(c, RT_LABEL_VALID, b);
	else if (i == n - 1)
		reply_say(c, RT_LABEL_INVALID, b);
	else if (r->page == 0 && f != NULL && f->kind == FORM_SUMMARY &&
	    f->nchoices == n - 3 && f->choices[i - 1] > 0)
		reply_putu(b, f->choices[i - 1]);
	else
		reply_putu(b, i);
}

/*
 * The name of value i of a report as the replies show it, for a
 * channel that shows the values before they are sent (the USSD review):
 * the officer sees one labelling everywhere. -1 if it does not fit.
 */
int
reply_label_value(enum reply_lang lang, const struct report *r,
    const struct form *f, size_t i, char *buf, size_t len)
{
	struct reply_ctx	 c;
	struct reply_buf	 b;

	memset(&c, 0, sizeof(c));
	c.lang = lang;
	c.form = f;
	reply_init(&b);
	reply_label(&c, r, i, &b);
	if (b.overflow || (size_t)snprintf(buf, len, "%s", b.s) >= len)
		return (-1);
	return (0);
}

/* Every value in order, named or plain, and a full stop. */
static void
reply_values_all(const struct reply_ctx *c, const struct report *r,
    int style, struct reply_buf *b)
{
	size_t	 i;

	for (i = 0; i < r->nvalues; i++) {
		reply_puts(b, " ");
		if (style == ECHO_NAMED) {
			reply_label(c, r, i, b);
			reply_puts(b, "=");
		}
		reply_putu(b, r->values[i]);
	}
	reply_puts(b, ".");
}

/*
 * The values, in at most avail septets: all of them (ECHO_NAMED,
 * ECHO_PLAIN), or (ECHO_SUM) as many leading ones as fit, then ".." and
 * the sum of all values so that the officer can still check. Returns
 * the values shown, -1 if the style does not fit.
 */
static int
reply_values(const struct reply_ctx *c, const struct report *r,
    int style, size_t avail, struct reply_buf *b)
{
	struct reply_buf	 v, sum;
	struct reply_ctx	 s = *c;
	size_t			 i, len, k;

	reply_init(&v);
	if (style != ECHO_SUM) {
		reply_values_all(c, r, style, &v);
		if (v.overflow || reply_gsm_length(v.s) > avail)
			return (-1);
		reply_puts(b, v.s);
		return ((int)r->nvalues);
	}
	for (i = 0; i < r->nvalues; i++)
		s.sum += r->values[i];
	reply_init(&sum);
	reply_say(&s, RT_SUM, &sum);
	if (strlen(sum.s) > avail)
		return (-1);
	for (k = 0, len = strlen(sum.s); k < r->nvalues; k++) {
		char	 one[8];
		int	 n;

		n = snprintf(one, sizeof(one), " %u", r->values[k]);
		if (n < 0 || len + (size_t)n > avail)
			break;
		reply_puts(&v, one);
		len += (size_t)n;
	}
	reply_puts(b, v.s);
	reply_puts(b, sum.s);
	return ((int)k);
}

/*
 * The short form merged with others: "DPR h3 #1 12345678 cek jumlah";
 * with the report r, every value named first: "DPR h3 #1: PARTAI=21
 * 1=26 2=18, 12345678".
 */
static void
reply_brief(const struct reply_ctx *c, const struct report *r,
    enum verdict v, unsigned flags, struct reply_buf *b)
{
	struct reply_ctx	 f = *c;
	size_t			 i;

	reply_ident(c, IDENT_BRIEF, b);
	if (r != NULL) {
		reply_puts(b, ":");
		for (i = 0; i < r->nvalues; i++) {
			reply_puts(b, " ");
			reply_label(c, r, i, b);
			reply_puts(b, "=");
			reply_putu(b, r->values[i]);
		}
		reply_puts(b, ",");
	}
	reply_puts(b, " ");
	reply_puts(b, c->receipt);
	if (v == VERDICT_DUPLICATE)
		reply_say(c, RT_BRIEF_AGAIN, b);
	else if (v == VERDICT_FLAGGED) {
		f.flags = flags & ~FLAG_STALE;
		f.level = REPLY_LEVELS - 1;
		reply_say(&f, RT_BRIEF_CHECK, b);
	}
	if (v != VERDICT_DUPLICATE && (flags & FLAG_STALE))
		reply_say(c, RT_BRIEF_OLD, b);
}

/*
 * A confirmation carries its receipt once and no other 8-digit run, in
 * at most max septets.
 */
static int
reply_check_confirm(const char *s, const char *rcpt, size_t max)
{
	char	 first[TALLY_CODE_LEN + 1];

	return (reply_fits_max(s, max) && reply_runs8(s, first) == 1 &&
	    strcmp(first, rcpt) == 0);
}

/* A rejection has no 8-digit run, but SEQ_USED may quote one receipt. */
static int
reply_check_reject(const char *s, const char *allowed)
{
	char	 first[TALLY_CODE_LEN + 1];
	size_t	 n;

	if (!reply_fits_str(s))
		return (0);
	n = reply_runs8(s, first);
	if (n == 0)
		return (1);
	return (n == 1 && allowed != NULL && strcmp(first, allowed) == 0);
}

/*
 * The most verbose confirmation in at most max septets: every value
 * with its name, else every value, else leading values and their sum
 * (verbose while it still shows a few values); within each, the flags
 * in the plainest words that fit. Returns the ECHO_* style, or -1 if
 * none fits.
 */
static int
reply_confirm_text(const struct reply_ctx *c, const struct report *r,
    const struct verify_result *res, size_t max, struct reply_buf *b)
{
	struct reply_buf	 head, tail;
	size_t			 used, want;
	int			 style, level, k;

	for (style = 0; style < ECHO_STYLES; style++) {
		for (level = 0; level < REPLY_LEVELS; level++) {
			reply_init(&head);
			reply_init(&tail);
			reply_confirm_head(c, res->verdict, level, &head);
			reply_confirm_tail(c, res->verdict, res->flags, level,
			    &tail);
			if (head.overflow || tail.overflow ||
			    !reply_fits_max(head.s, max) ||
			    !reply_fits_max(tail.s, max))
				continue;
			used = reply_gsm_length(head.s) +
			    reply_gsm_length(tail.s);
			if (used >= max)
				continue;
			if (style != ECHO_SUM)
				want = r->nvalues;
			else if (level == REPLY_LEVELS - 1)
				want = 0;
			else
				want = r->nvalues < REPLY_MIN_ECHO ?
				    r->nvalues : REPLY_MIN_ECHO;
			reply_init(b);
			reply_puts(b, head.s);
			k = reply_values(c, r, style, max - used, b);
			if (k < 0 || (size_t)k < want)
				continue;
			reply_puts(b, tail.s);
			if (!b->overflow &&
			    reply_check_confirm(b->s, c->receipt, max))
				return (style);
		}
	}
	return (-1);
}

/* The values a confirmation's templates need; -1 if it cannot be one. */
static int
reply_confirm_ctx(enum reply_lang lang, const struct reply_msg *msg,
    const struct verify_result *res, struct reply_ctx *c)
{
	const struct report	*r = &msg->report;

	reply_ctx_report(c, lang, r);
	if (reply_is_code(msg->receipt))
		c->receipt = msg->receipt;
	else if (reply_is_code(res->receipt))
		c->receipt = res->receipt;
	else {
		log_warnx("reply: msg %lld: %s without a receipt",
		    (long long)msg->id, verify_verdict_name(res->verdict));
		return (-1);
	}
	if (!reply_valid_report(msg) || r->nvalues == 0 ||
	    r->nvalues > TALLY_MAXVALUES) {
		log_warnx("reply: msg %lld: %s without a decoded report",
		    (long long)msg->id, verify_verdict_name(res->verdict));
		return (-1);
	}
	c->form = &res->form;
	c->newer = res->superseded_by;
	c->corrects = res->supersedes;
	return (0);
}

/*
 * A confirmation, and its brief form when the caller wants one. A card
 * code proves where a report came from, not what it says: its
 * confirmation is the officer's only check of the numbers, so it echoes
 * every one (a long SMS of up to REPLY_PARTS_MAX parts), and is merged
 * only when short and not FLAGGED, with every number in its brief. A
 * MAC proves the numbers: one SMS, always mergeable. max: the septets
 * allowed, 0 for this rule.
 */
static int
reply_confirm(enum reply_lang lang, const struct reply_msg *msg,
    const struct verify_result *res, size_t max, char *text,
    size_t textlen, char *brief, size_t brieflen)
{
	struct reply_ctx	 c;
	struct reply_buf	 b;

	if (reply_confirm_ctx(lang, msg, res, &c) == -1)
		return (-1);
	if (max == 0)
		max = res->auth == AUTH_MAC ? REPLY_MAX : REPLY_LONG_MAX;
	if (reply_confirm_text(&c, &msg->report, res, max, &b) == -1) {
		log_warnx("reply: msg %lld: no confirmation fits %zu "
		    "characters", (long long)msg->id, max);
		return (-1);
	}
	if (reply_out(b.s, text, textlen) == -1)
		return (-1);
	if (brief == NULL || brieflen == 0)
		return (0);
	reply_init(&b);
	if (res->auth == AUTH_MAC)
		reply_brief(&c, NULL, res->verdict, res->flags, &b);
	else {
		if (res->verdict == VERDICT_FLAGGED)
			return (0);
		reply_brief(&c, &msg->report, res->verdict, res->flags, &b);
		if (b.overflow || reply_gsm_length(b.s) > REPLY_BRIEF_MAX)
			return (0);
	}
	if (!reply_check_confirm(b.s, c.receipt, REPLY_MAX)) {
		log_warnx("reply: msg %lld: brief form does not fit",
		    (long long)msg->id);
		return (-1);
	}
	return (reply_out(b.s, brief, brieflen));
}

/*
 * What the rejection of msg may say, as RJ_* conditions, and the values
 * its templates need.
 */
static unsigned
reply_reject_ctx(enum reply_lang lang, const struct reply_msg *msg,
    const struct verify_result *res, struct reply_ctx *c)
{
	const struct decode_error *e = &res->err;
	unsigned		 have = 0;

	reply_ctx_report(c, lang, &msg->report);
	reply_quote(e->text, c->quote, sizeof(c->quote));
	c->receipt = res->receipt;
	c->form = &res->form;
	c->token = e->token;
	c->expected = e->expected;
	c->got = e->got;
	if (c->quote[0] != '\0')
		have |= RJ_QUOTE;
	/* Without its SEQ a report is not worth naming: "#269" misleads. */
	if (reply_valid_report(msg) && res->reason != REASON_SEQ_MISSING)
		have |= RJ_REPORT | (msg->report.page >= 0 ? RJ_PAGE : 0);
	if (e->expected > 0)
		have |= RJ_EXPECT;
	if (res->lockout & LOCKOUT_FAIL_LOCKED)
		have |= RJ_LOCKED;
	if (reply_is_code(res->receipt))
		have |= RJ_RECEIPT;
	return (have);
}

/* The parts of a rejection's table entry whose conditions hold. */
static void
reply_reject_body(const struct reply_ctx *c, enum reason reason,
    unsigned have, struct reply_buf *b)
{
	const struct reply_part	*p;
	size_t			 i;
	int			 said = 0;

	if (reason <= REASON_NONE || reason >= REASON_MAX ||
	    reply_rejects[reason][0].text.id == NULL)
		reason = REASON_NONE;
	p = reply_rejects[reason];
	for (i = 0; i < REPLY_PARTS && p[i].text.id != NULL; i++) {
		if ((p[i].when & RJ_ELSE) == 0)
			said = 0;
		else if (said)
			continue;
		if ((p[i].when & ~RJ_ELSE & ~have) != 0)
			continue;
		reply_render(c, &p[i].text, b);
		said = 1;
	}
}

/* The most verbose rejection that fits; a level 2 text always should. */
static int
reply_reject(enum reply_lang lang, const struct reply_msg *msg,
    const struct verify_result *res, char *text, size_t textlen)
{
	struct reply_ctx	 c;
	struct reply_buf	 b;
	const char		*allowed = NULL;
	unsigned		 have;
	int			 level;

	have = reply_reject_ctx(lang, msg, res, &c);
	if (res->reason == REASON_SEQ_USED && (have & RJ_RECEIPT))
		allowed = res->receipt;
	for (level = 0; level < REPLY_LEVELS; level++) {
		reply_init(&b);
		reply_say(&c, RT_REJECTED, &b);
		/* Which report, when the officer sends several. */
		if (level == 0 && (have & RJ_REPORT)) {
			reply_puts(&b, " ");
			reply_ident(&c, IDENT_NOTPS, &b);
		}
		reply_puts(&b, ": ");
		reply_reject_body(&c, res->reason, have |
		    (level >= 2 ? RJ_BRIEF : RJ_FULL), &b);
		if (!b.overflow && reply_check_reject(b.s, allowed))
			return (reply_out(b.s, text, textlen));
	}
	log_warnx("reply: msg %lld: no rejection text for %s fits",
	    (long long)msg->id, verify_reason_text(res->reason));
	reply_init(&b);
	reply_say(&c, RT_REJECTED, &b);
	reply_puts(&b, ": ");
	reply_reject_body(&c, REASON_NONE, 0, &b);
	return (reply_out(b.s, text, textlen));
}

/*
 * The reply to one report: the standalone text (a confirmation of a
 * card-coded report may take several SMS parts), and for a MAC-coded
 * confirmation the brief form that is merged with others sent to the
 * same phone.
 */
int
reply_report(enum reply_lang lang, const struct reply_msg *msg,
    const struct verify_result *res, char *text, size_t textlen,
    char *brief, size_t brieflen)
{
	if (msg == NULL || res == NULL || text == NULL || textlen == 0) {
		log_warnx("reply: report: missing argument");
		return (-1);
	}
	text[0] = '\0';
	if (brief != NULL && brieflen > 0)
		brief[0] = '\0';
	switch (res->verdict) {
	case VERDICT_OK:
	case VERDICT_FLAGGED:
	case VERDICT_DUPLICATE:
		return (reply_confirm(lang, msg, res, 0, text, textlen, brief,
		    brieflen));
	case VERDICT_REJECTED:
		return (reply_reject(lang, msg, res, text, textlen));
	}
	log_warnx("reply: msg %lld: unknown verdict %d", (long long)msg->id,
	    (int)res->verdict);
	return (-1);
}

/*
 * The reply to one report in one SMS, whatever its code: for a screen
 * that shows one (the USSD END screen) while the full confirmation goes
 * by SMS.
 */
int
reply_screen(enum reply_lang lang, const struct reply_msg *msg,
    const struct verify_result *res, char *text, size_t textlen)
{
	if (msg == NULL || res == NULL || text == NULL || textlen == 0) {
		log_warnx("reply: screen: missing argument");
		return (-1);
	}
	text[0] = '\0';
	if (res->verdict == VERDICT_REJECTED)
		return (reply_reject(lang, msg, res, text, textlen));
	return (reply_confirm(lang, msg, res, REPLY_MAX, text, textlen, NULL,
	    0));
}

/*
 * Merge as many leading briefs as fit into one SMS; the caller sends
 * the rest in another. Returns how many were used.
 */
size_t
reply_merge(enum reply_lang lang, const char **briefs, size_t n, char *out,
    size_t outlen)
{
	struct reply_ctx	 c;
	struct reply_buf	 b, t, foot;
	size_t			 used = 0, i;

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (briefs == NULL || n == 0)
		return (0);
	memset(&c, 0, sizeof(c));
	c.lang = lang;
	reply_init(&foot);
	reply_say(&c, RT_MERGE_FOOT, &foot);
	reply_init(&b);
	reply_say(&c, RT_RECEIVED, &b);
	reply_puts(&b, ": ");
	for (i = 0; i < n; i++) {
		if (briefs[i] == NULL || briefs[i][0] == '\0')
			break;
		t = b;
		reply_add(&t, "%s%s%s", i ? "; " : "", briefs[i], foot.s);
		if (!reply_fits(&t)) {
			/* A bare full stop leaves room for one more. */
			t = b;
			reply_add(&t, "%s%s.", i ? "; " : "", briefs[i]);
			if (!reply_fits(&t))
				break;
			reply_init(&foot);
			reply_puts(&foot, ".");
		}
		reply_add(&b, "%s%s", i ? "; " : "", briefs[i]);
		used++;
	}
	if (used == 0)
		return (0);
	reply_puts(&b, foot.s);
	if (!reply_fits(&b) || reply_out(b.s, out, outlen) == -1) {
		if (out != NULL && outlen > 0)
			out[0] = '\0';
		return (0);
	}
	return (used);
}

/* One report of a CEK answer: "; DPR h2 #3 12345678!". */
static void
reply_cek_entry(enum reply_lang lang, const struct reply_latest *l,
    int first, struct reply_buf *e)
{
	struct reply_ctx	 c;
	struct report		 r;

	memset(&r, 0, sizeof(r));
	r.contest = l->contest;
	r.page = decode_contest_paged(r.contest) ? l->page : -1;
	r.seq = l->seq;
	reply_ctx_report(&c, lang, &r);
	reply_init(e);
	reply_add(e, "%s ", first ? "" : ";");
	reply_ident(&c, IDENT_BRIEF, e);
	reply_add(e, " %s%s", reply_is_code(l->receipt) ? l->receipt : "-",
	    l->verdict == VERDICT_FLAGGED ? "!" : "");
}

/* The answer to "CEK <TPS>": the latest SEQ and receipt per page. */
int
reply_cek(enum reply_lang lang, uint64_t tps,
    const struct reply_latest *latest, size_t n, char *text, size_t len)
{
	struct reply_ctx	 c;
	struct reply_buf	 b, e, t;
	size_t			 i, shown = 0;
	int			 flagged = 0;

	if (text == NULL || len == 0 || (n > 0 && latest == NULL) ||
	    tps > REPLY_TPS_MAX) {
		log_warnx("reply: cek: bad argument");
		return (-1);
	}
	text[0] = '\0';
	memset(&c, 0, sizeof(c));
	c.lang = lang;
	c.tps = (unsigned long long)tps;
	reply_init(&b);
	reply_say(&c, RT_CEK, &b);
	if (n == 0) {
		reply_say(&c, RT_CEK_NONE, &b);
		return (reply_out(b.s, text, len));
	}
	for (i = 0; i < n; i++) {
		reply_cek_entry(lang, &latest[i], i == 0, &e);
		/* Room for this one and for saying how many more follow. */
		t = b;
		reply_puts(&t, e.s);
		c.more = n - i - 1;
		if (c.more > 0)
			reply_say(&c, RT_CEK_MORE, &t);
		reply_puts(&t, ".");
		if (!reply_fits(&t))
			break;
		reply_puts(&b, e.s);
		if (latest[i].verdict == VERDICT_FLAGGED)
			flagged = 1;
		shown++;
	}
	c.more = n - shown;
	if (c.more > 0)
		reply_say(&c, RT_CEK_MORE, &b);
	reply_puts(&b, ".");
	if (flagged) {
		t = b;
		reply_say(&c, RT_CEK_FLAGGED, &t);
		if (reply_fits(&t))
			b = t;
	}
	if (!reply_fits(&b)) {
		log_warnx("reply: cek: %013llu: does not fit",
		    (unsigned long long)tps);
		return (-1);
	}
	return (reply_out(b.s, text, len));
}

/* A fixed text without placeholders, into the caller's buffer. */
static int
reply_fixed(enum reply_lang lang, enum reply_tid id, char *text, size_t len)
{
	struct reply_ctx	 c;
	struct reply_buf	 b;

	memset(&c, 0, sizeof(c));
	c.lang = lang;
	reply_init(&b);
	reply_say(&c, id, &b);
	return (reply_out(b.s, text, len));
}

/* The answer to BANTU: the format of a report. */
int
reply_bantu(enum reply_lang lang, char *text, size_t len)
{
	return (reply_fixed(lang, RT_BANTU, text, len));
}

/* The answer to a text that is neither a report nor a command. */
int
reply_other(enum reply_lang lang, char *text, size_t len)
{
	return (reply_fixed(lang, RT_OTHER, text, len));
}

/* An SMS whose PDU could not be decoded (the modem worker's guard). */
int
reply_unreadable(enum reply_lang lang, char *text, size_t len)
{
	return (reply_fixed(lang, RT_UNREADABLE, text, len));
}

/*
 * "CEK X" where X is not a TPS code (or not a registered one). Takes
 * X, or the whole text of the message: then the word CEK is skipped.
 */
int
reply_tps_unknown(enum reply_lang lang, const char *tps_text, char *text,
    size_t len)
{
	struct reply_ctx	 c;
	struct reply_buf	 b;
	struct tokens		 t;
	const char		*x = tps_text;

	if (x != NULL) {
		decode_tokens(x, strlen(x), &t);
		if (t.n > 0 && strncmp(t.tok[0], "CEK", 3) == 0)
			x = t.tok[0][3] != '\0' ? t.tok[0] + 3 :
			    t.n > 1 ? t.tok[1] : "";
	}
	memset(&c, 0, sizeof(c));
	c.lang = lang;
	reply_quote(x, c.quote, sizeof(c.quote));
	reply_init(&b);
	reply_say(&c, c.quote[0] != '\0' ? RT_TPS_QUOTED : RT_TPS_NONE, &b);
	reply_say(&c, RT_TPS_HOW, &b);
	if (!reply_check_reject(b.s, NULL)) {
		log_warnx("reply: tps_unknown: text does not fit");
		return (-1);
	}
	return (reply_out(b.s, text, len));
}

/* A template's fault: missing in a language, or an unknown placeholder. */
static int
reply_check_template(const struct reply_text *t, const char *what,
    char *why, size_t len)
{
	const char	*s, *p;
	int		 l;

	for (l = REPLY_ID; l <= REPLY_EN; l++) {
		s = reply_pick((enum reply_lang)l, t);
		if (s == NULL || s[0] == '\0' ||
		    reply_gsm_length(s) == (size_t)-1) {
			snprintf(why, len, "%s: no %s text", what,
			    l == REPLY_EN ? "English" : "Indonesian");
			return (-1);
		}
		for (p = strchr(s, '%'); p != NULL; p = strchr(p + 2, '%'))
			if (p[1] == '\0' || strchr("%qrcpnTsbktegNmlFf",
			    p[1]) == NULL) {
				snprintf(why, len, "%s: unknown placeholder "
				    "in \"%s\"", what, s);
				return (-1);
			}
	}
	return (0);
}

/* A context with the longest value of every placeholder. */
static void
reply_check_ctx(struct reply_ctx *c, struct form *f)
{
	struct report	 r;

	memset(&r, 0, sizeof(r));
	r.contest = CONTEST_DPRDK;
	r.tps = REPLY_TPS_MAX;
	r.seq = TALLY_SEQ_MAX;
	r.page = 12345678;		/* quoted as 7 digits and ".." */
	reply_ctx_report(c, REPLY_ID, &r);
	memset(f, 0, sizeof(*f));
	f->nchoices = TALLY_MAXVALUES;
	c->form = f;
	c->receipt = "12345678";
	reply_quote("ABCDEFGHIJKLMNOPQRSTUVW", c->quote, sizeof(c->quote));
	c->token = TALLY_MAXTOKENS;
	c->expected = TALLY_MAXVALUES;
	c->got = TALLY_MAXTOKENS;
	c->flags = FLAG_ALL;
}

/*
 * Every condition of a rejection, at its longest: the text, short or
 * not, must fit one SMS after "DITOLAK: " and say something.
 */
static int
reply_check_rejects(char *why, size_t len)
{
	struct reply_ctx	 c;
	struct reply_buf	 b;
	struct form		 f;
	unsigned		 have;
	int			 reason, l;

	reply_check_ctx(&c, &f);
	for (reason = REASON_NONE; reason < REASON_MAX; reason++)
	for (l = REPLY_ID; l <= REPLY_EN; l++)
	for (have = 0; have < RJ_ELSE; have++) {
		if ((have & (RJ_BRIEF | RJ_FULL)) == 0 ||
		    (have & (RJ_BRIEF | RJ_FULL)) == (RJ_BRIEF | RJ_FULL))
			continue;
		c.lang = (enum reply_lang)l;
		reply_init(&b);
		reply_say(&c, RT_REJECTED, &b);
		reply_puts(&b, ": ");
		reply_reject_body(&c, (enum reason)reason, have, &b);
		if (b.overflow || !reply_check_reject(b.s,
		    reason == REASON_SEQ_USED ? c.receipt : NULL) ||
		    strlen(b.s) <= strlen("DITOLAK: ")) {
			snprintf(why, len, "reason %d: \"%s\" does not fit",
			    reason, b.s);
			return (-1);
		}
	}
	return (0);
}

/*
 * The long texts at their longest: BANTU in at most REPLY_PARTS_MAX
 * parts, and the card-mode confirmation of the longest real form (DPD,
 * 54 candidates: 57 values of 999) with every flag, a correction and
 * the largest SEQ still echoing every value, in every verdict.
 */
static int
reply_check_long(char *why, size_t len)
{
	static const enum verdict v[] = { VERDICT_OK, VERDICT_FLAGGED,
	    VERDICT_DUPLICATE };
	struct verify_result	 res;
	struct reply_ctx	 c;
	struct reply_buf	 b;
	struct report		 r;
	size_t			 i;
	int			 l, style;

	memset(&c, 0, sizeof(c));
	memset(&r, 0, sizeof(r));
	r.contest = CONTEST_DPD;
	r.tps = REPLY_TPS_MAX;
	r.seq = TALLY_SEQ_MAX;
	r.page = -1;
	r.nvalues = REPLY_CHECK_VALUES;
	for (i = 0; i < r.nvalues; i++)
		r.values[i] = TALLY_VALUE_MAX;
	memset(&res, 0, sizeof(res));
	res.flags = FLAG_ALL;
	for (l = REPLY_ID; l <= REPLY_EN; l++) {
		c.lang = (enum reply_lang)l;
		reply_init(&b);
		reply_say(&c, RT_BANTU, &b);
		if (b.overflow || !reply_fits_max(b.s, REPLY_LONG_MAX)) {
			snprintf(why, len, "BANTU does not fit %d parts",
			    REPLY_PARTS_MAX);
			return (-1);
		}
		reply_ctx_report(&c, (enum reply_lang)l, &r);
		c.receipt = "12345678";
		c.newer = c.corrects = TALLY_SEQ_MAX;
		for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			res.verdict = v[i];
			style = reply_confirm_text(&c, &r, &res,
			    REPLY_LONG_MAX, &b);
			if (style < 0 || style == ECHO_SUM) {
				snprintf(why, len, "DPD confirmation does not "
				    "echo every value: \"%s\"", b.s);
				return (-1);
			}
		}
	}
	return (0);
}

/*
 * Whether the text tables are whole: every fixed text, flag and reason
 * in both languages with known placeholders only, and every rejection
 * able to fit. Returns 0, or -1 with the first fault in why.
 */
int
reply_check_texts(char *why, size_t len)
{
	unsigned	 all = 0;
	size_t		 i, k;
	char		 what[32];

	for (i = 0; i < RT_MAX; i++) {
		snprintf(what, sizeof(what), "text %zu", i);
		if (reply_check_template(&reply_texts[i], what, why, len) < 0)
			return (-1);
	}
	for (i = 0; i <= CONTEST_MAX; i++)
		if (reply_check_template(&reply_nouns[i], "noun", why, len) < 0)
			return (-1);
	for (i = 0; i < REPLY_NFLAGS; i++) {
		all |= reply_flags[i].bit;
		snprintf(what, sizeof(what), "flag %#x", reply_flags[i].bit);
		for (k = 0; k < REPLY_LEVELS; k++)
			if (reply_check_template(&reply_flags[i].text[k], what,
			    why, len) < 0)
				return (-1);
	}
	if (all != FLAG_ALL) {
		snprintf(why, len, "flags %#x have no text", FLAG_ALL & ~all);
		return (-1);
	}
	for (i = 0; i < REASON_MAX; i++) {
		snprintf(what, sizeof(what), "reason %zu", i);
		for (k = 0; k == 0 || (k < REPLY_PARTS &&
		    reply_rejects[i][k].text.id != NULL); k++)
			if (reply_check_template(&reply_rejects[i][k].text,
			    what, why, len) < 0)
				return (-1);
	}
	if (reply_check_rejects(why, len) == -1)
		return (-1);
	return (reply_check_long(why, len));
}

/* A TPS code as decode reads it: 13 digits (O, I, L), province 11..99. */
static int
reply_tps(const char *tok, uint64_t *tps)
{
	unsigned long	 v;

	if (strlen(tok) != TALLY_TPS_DIGITS ||
	    decode_number(tok, &v, TALLY_TPS_DIGITS) < 0 ||
	    v < REPLY_TPS_MIN || v > REPLY_TPS_MAX)
		return (0);
	*tps = v;
	return (1);
}

/*
 * Whether a text that does not start with a contest is still an attempt
 * at a report: at least as many digits (0-9 or any other script's) as
 * letters, or one word in front of a contest and a TPS code ("Lapor:
 * 1*3201012001001*...").
 */
static int
reply_looks_report(const char *text, const struct tokens *t)
{
	size_t		 i, n, len = strlen(text), digits = 0;
	size_t		 letters = 0;
	uint64_t	 v;

	for (i = 0; i < len; i += n) {
		if (decode_foreign_digit(text + i, len - i, &n) >= 0 ||
		    isdigit((unsigned char)text[i]))
			digits++;
		else if (isalpha((unsigned char)text[i]))
			letters++;
	}
	if (digits > 0 && digits >= letters)
		return (1);
	return (t->n >= 3 && decode_contest(t->tok[1]) != CONTEST_NONE &&
	    reply_tps(t->tok[2], &v));
}

/*
 * What an incoming text asks for: CEK <TPS>, BANTU (HELP, INFO, ?), a
 * report (the first token is a contest keyword or its digit, or the
 * text looks like an attempt at one), or something else. Tokens as
 * decode.c splits them.
 */
enum msg_kind
reply_classify(const char *text, uint64_t *tps, int *ok)
{
	static const char *const bantu[] = {
		"BANTU", "BANTUAN", "HELP", "INFO", "TOLONG",
	};
	struct tokens	 t;
	const char	*p, *first;
	uint64_t	 v = 0;
	size_t		 i;
	int		 good = 0;

	if (tps != NULL)
		*tps = 0;
	if (ok != NULL)
		*ok = 0;
	if (text == NULL)
		return (MSG_OTHER);
	decode_tokens(text, strlen(text), &t);
	if (t.n == 0) {
		if (reply_looks_report(text, &t))
			return (MSG_REPORT);	/* Arabic digits only */
		/* "?" alone: no token, but a plain request for help. */
		for (p = text; *p == '?' || isspace((unsigned char)*p); p++)
			;
		return ((*p == '\0' && strchr(text, '?') != NULL) ?
		    MSG_BANTU : MSG_OTHER);
	}
	first = t.tok[0];
	if (strncmp(first, "CEK", 3) == 0) {
		if (first[3] == '\0') {
			if (t.n >= 2)
				good = reply_tps(t.tok[1], &v);
		} else if (isdigit((unsigned char)first[3]))
			good = reply_tps(first + 3, &v); /* CEK3201012001001 */
		else
			goto notcek;		/* "CEKAP": not a command */
		if (good && tps != NULL)
			*tps = v;
		if (ok != NULL)
			*ok = good;
		return (MSG_CEK);
	}
notcek:
	for (i = 0; i < sizeof(bantu) / sizeof(bantu[0]); i++)
		if (strcmp(first, bantu[i]) == 0)
			return (MSG_BANTU);
	if (decode_contest(first) != CONTEST_NONE ||
	    reply_looks_report(text, &t))
		return (MSG_REPORT);
	return (MSG_OTHER);
}
