# tallygw: an SMS gateway for election tallies.
#
#   make          build every program into build/
#   make check    install what is missing, build, run every test
#   make demo     install what is missing, build, run the demo
#   make fuzz     build the libFuzzer targets (clang) and run each for
#                 FUZZ_SECONDS (300) seconds
#   make install  PREFIX=/usr/local DESTDIR= (the directories below)
#
# Plain GNU make; libraries through pkg-config.

# Where `make install' puts things: the daemon and the operator's tool
# (section 8) in sbin, the simulator in bin, the worker beside the
# daemon (where tallygw looks for it). The configuration stays in
# /etc/tallygw, which is where tallygw reads it by default, whatever the
# PREFIX; systemd and sysusers read /usr/local/lib too.
PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
SHAREDIR ?= $(PREFIX)/share/tallygw
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/tallygw
SYSCONFDIR ?= /etc
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DESTDIR	?=

CC	?= cc
CLANG	?= clang
B	:= build
SHARED	?= ../shared/data

# Debian packages: to build, to test against real peers (and what the
# test scripts run beyond minbase: procps for ps, pgrep, pkill; time for
# bench.sh; mandoc and systemd (systemd-analyze) for install.sh's lint
# of the man pages and the unit, and man-db, whose man(1) systemd-analyze
# runs to find the unit's Documentation= pages; openssl for forward_tls.sh's
# certificates; prometheus for metrics.sh's `promtool check metrics';
# chromium, driven by python3 through the DevTools protocol over a
# pipe, for machelper.sh and dashboard.sh;
# tests/regress/deps.sh checks that nothing is missing).
DEB_BUILD := build-essential pkg-config libgammu-dev libevent-dev \
	libsqlite3-dev libsodium-dev libcmocka-dev libjansson-dev clang \
	libclang-rt-14-dev libssl-dev
DEB_TEST := gammu gammu-smsd smstools kannel sqlite3 python3 curl procps \
	time chromium mandoc man-db openssl systemd prometheus
DEB_ALL := $(DEB_BUILD) $(DEB_TEST)
# What `make bench' needs beyond them (bench-deps): callgrind, the plots,
# gammu-smsd's SQLite backend (libdbi's driver).
DEB_BENCH := valgrind gnuplot-nox libdbd-sqlite3

WARN	:= -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
	-Wmissing-declarations -Wshadow -Wpointer-arith -Wcast-qual \
	-Wwrite-strings -Wformat=2 -Wno-unused-parameter
ifeq ($(CI),true)
WARN	+= -Werror
endif

# Recursive on purpose: pkg-config runs only when a recipe needs it,
# after 'deps' has installed the packages.
PC_GW	= $(shell pkg-config --cflags libevent libevent_openssl openssl \
	sqlite3 libsodium jansson)
PC_GWL	= $(shell pkg-config --libs libevent libevent_openssl openssl \
	sqlite3 libsodium jansson)
PC_GAM	= $(shell pkg-config --cflags gammu)
PC_GAML	= $(shell pkg-config --libs gammu)
PC_CM	= $(shell pkg-config --cflags cmocka)
PC_CML	= $(shell pkg-config --libs cmocka)

CFLAGS	?= -O2 -g
ALLCFLAGS = -std=gnu11 $(CFLAGS) $(WARN) -Iinclude -D_GNU_SOURCE
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined

# The house (docs/design.md):
#   gateway/tally/  the protocol library, libtally.a: every program links it
#   gateway/        the daemon tallygw; its stages also make libgw.a, which
#                   the unit tests link (tallygw.c, the main, stays out)
#   gateway/ctl/    tallyctl, the operator's tool
#   modem/          tallygw-modem, the only code that includes <gammu.h>
#   sim/            tallysim (its own SMS PDU codec, sim/pdu.c: no libGammu)
# sim/, modem/ and gateway/ctl/ see include/ only (the library's headers),
# never the daemon's: the build enforces it.
TALLY_SRCS := $(wildcard gateway/tally/*.c)
TALLY_ASM := gateway/tally/election_default.S
ELECTION_DEFAULT := docs/examples/election-2024.conf
GW_MAIN	:= gateway/tallygw.c
GW_SRCS	:= $(filter-out $(GW_MAIN),$(wildcard gateway/*.c))
CTL_SRCS := $(wildcard gateway/ctl/*.c)
TALLY_HDRS := $(wildcard include/*.h)
GW_HDRS	:= $(TALLY_HDRS) $(wildcard gateway/*.h)
GW_INC	:= -Igateway

# The modem worker: the only program that links libGammu's state machine.
MODEM_SRCS := $(wildcard modem/*.c)
SIM_SRCS := $(wildcard sim/*.c)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
ASAN_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/asan/tests/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)

TALLY_OBJS := $(TALLY_SRCS:%.c=$(B)/%.o) $(TALLY_ASM:%.S=$(B)/%.o)
TALLY_ASAN := $(TALLY_SRCS:%.c=$(B)/asan/%.o) $(TALLY_ASM:%.S=$(B)/asan/%.o)
TALLY_FUZZ := $(TALLY_SRCS:%.c=$(B)/fuzz/%.o) $(TALLY_ASM:%.S=$(B)/%.o)
GW_OBJS	:= $(GW_SRCS:%.c=$(B)/%.o)
GW_ASAN	:= $(GW_SRCS:%.c=$(B)/asan/%.o)
GW_FUZZ	:= $(GW_SRCS:%.c=$(B)/fuzz/%.o)
LIBS	:= $(B)/libgw.a $(B)/libtally.a
LIBS_ASAN := $(B)/asan/libgw.a $(B)/asan/libtally.a
LIBS_FUZZ := $(B)/fuzz/libgw.a $(B)/fuzz/libtally.a

PROGS	:= $(B)/tallyctl $(B)/tallygw $(B)/tallygw-modem $(B)/tallysim

.PHONY: all check demo fuzz install clean deps print-deps test test-unit soak \
	bench bench-deps FORCE
.DEFAULT_GOAL := all

all: $(PROGS) $(UNIT_BINS) $(B)/tests/tools/wiredrive

# --- packages -------------------------------------------------------

# Install the Debian packages that are missing: apt-get as root, else
# sudo, else say what to install and stop.
deps: DEB_WANT = $(DEB_ALL)
bench-deps: DEB_WANT = $(DEB_ALL) $(DEB_BENCH)
deps bench-deps:
	@missing=""; for p in $(DEB_WANT); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
		    grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "deps: installing:$$missing"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	else echo "deps: please install as root: apt-get install$$missing" >&2; \
		exit 1; fi; \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $$missing || { \
		echo "deps: apt-get failed; install by hand:$$missing" >&2; \
		exit 1; }

# The packages 'deps' and 'bench-deps' install, one line
# (tests/regress/deps.sh reads it).
print-deps:
	@echo $(DEB_ALL) $(DEB_BENCH)

# --- objects --------------------------------------------------------

$(B)/gateway/tally/%.o: gateway/tally/%.c $(TALLY_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(PC_GW) -c $< -o $@

$(B)/gateway/tally/election_default.o: gateway/tally/election_default.S \
    $(ELECTION_DEFAULT)
	@mkdir -p $(@D)
	$(CC) -c -DELECTION_FILE='"$(ELECTION_DEFAULT)"' $< -o $@

$(B)/gateway/ctl/%.o: gateway/ctl/%.c $(TALLY_HDRS) $(wildcard gateway/ctl/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(PC_GW) -c $< -o $@

$(B)/gateway/%.o: gateway/%.c $(GW_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(GW_INC) $(PC_GW) -c $< -o $@

# The dashboard's files are found in $(SHAREDIR)/web unless [admin] web
# says otherwise: config.c holds that default, and is built again when
# SHAREDIR changes (make install PREFIX=/usr after a plain make).
$(B)/sharedir: FORCE
	@mkdir -p $(@D)
	@echo '$(SHAREDIR)' | cmp -s - $@ || echo '$(SHAREDIR)' >$@

$(B)/gateway/config.o: gateway/config.c $(GW_HDRS) $(B)/sharedir
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -DGW_WEB_DIR='"$(SHAREDIR)/web"' $(GW_INC) \
	    $(PC_GW) -c $< -o $@

$(B)/modem/%.o: modem/%.c $(wildcard modem/*.h) $(TALLY_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(PC_GAM) $(PC_GW) -c $< -o $@

$(B)/sim/%.o: sim/%.c $(wildcard sim/*.h) $(TALLY_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(PC_GW) -c $< -o $@

$(B)/libtally.a: $(TALLY_OBJS)
	rm -f $@
	ar rcs $@ $^

$(B)/libgw.a: $(GW_OBJS)
	rm -f $@
	ar rcs $@ $^

$(B)/tallyctl: $(CTL_SRCS:%.c=$(B)/%.o) $(B)/libtally.a
	$(CC) $(CFLAGS) -o $@ $^ $(PC_GWL) -lm

$(B)/tallygw: $(GW_MAIN:%.c=$(B)/%.o) $(LIBS)
	$(CC) $(CFLAGS) -o $@ $^ $(PC_GWL) -lm

$(B)/tallygw-modem: $(MODEM_SRCS:%.c=$(B)/%.o) $(B)/libtally.a
	$(CC) $(CFLAGS) -o $@ $^ $(PC_GAML) $(PC_GWL) -lm

$(B)/tallysim: $(SIM_SRCS:%.c=$(B)/%.o) $(B)/libtally.a
	$(CC) $(CFLAGS) -o $@ $^ $(PC_GWL) -lutil -lm

# --- tests ----------------------------------------------------------

$(B)/tests/%: tests/unit/%.c tests/unit/unit.h $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(GW_INC) $(PC_GW) $(PC_CM) -o $@ $< $(LIBS) \
	    $(PC_GWL) $(PC_CML) -lm

$(B)/asan/gateway/tally/%.o: gateway/tally/%.c $(TALLY_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(SANFLAGS) $(PC_GW) -c $< -o $@

$(B)/asan/gateway/%.o: gateway/%.c $(GW_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(SANFLAGS) $(GW_INC) $(PC_GW) -c $< -o $@

$(B)/asan/gateway/tally/election_default.o: \
    $(B)/gateway/tally/election_default.o
	@mkdir -p $(@D)
	cp $< $@

$(B)/asan/libtally.a: $(TALLY_ASAN)
	rm -f $@
	ar rcs $@ $^

$(B)/asan/libgw.a: $(GW_ASAN)
	rm -f $@
	ar rcs $@ $^

# tallygw and its worker under ASan+UBSan: the hostile corpus
# (tests/regress/hostile.sh) runs through them.
ASAN_PROGS := $(B)/asan/tallygw $(B)/asan/tallygw-modem

$(B)/asan/modem/%.o: modem/%.c $(wildcard modem/*.h) $(TALLY_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(SANFLAGS) $(PC_GAM) $(PC_GW) -c $< -o $@

$(B)/asan/tallygw: $(GW_MAIN:%.c=$(B)/asan/%.o) $(LIBS_ASAN)
	$(CC) $(SANFLAGS) -o $@ $^ $(PC_GWL) -lm

$(B)/asan/tallygw-modem: $(MODEM_SRCS:%.c=$(B)/asan/%.o) \
    $(B)/asan/libtally.a
	$(CC) $(SANFLAGS) -o $@ $^ $(PC_GAML) $(PC_GWL) -lm

$(B)/asan/tests/%: tests/unit/%.c tests/unit/unit.h $(LIBS_ASAN)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(SANFLAGS) $(GW_INC) $(PC_GW) $(PC_CM) -o $@ $< \
	    $(LIBS_ASAN) $(PC_GWL) $(PC_CML) -lm

# The modem worker's test driver (tests/regress/modem.sh): wire.c only.
$(B)/tests/tools/wiredrive: tests/tools/wiredrive.c $(TALLY_HDRS) \
    $(B)/libtally.a
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -o $@ $< $(B)/libtally.a

# Suites of pure sim/ modules link those sources too (and, like sim/,
# see the library's headers only).
SIM_UNIT_SRCS := sim/scenario.c sim/oracle.c sim/truth.c
SIM_SUITES := test_scenario test_truth

$(SIM_SUITES:%=$(B)/tests/%): $(B)/tests/%: tests/unit/%.c \
    tests/unit/unit.h $(SIM_UNIT_SRCS) $(wildcard sim/*.h) $(B)/libtally.a
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -Isim $(PC_GW) $(PC_CM) -o $@ $< \
	    $(SIM_UNIT_SRCS) $(B)/libtally.a $(PC_GWL) $(PC_CML) -lm

$(SIM_SUITES:%=$(B)/asan/tests/%): $(B)/asan/tests/%: tests/unit/%.c \
    tests/unit/unit.h $(SIM_UNIT_SRCS) $(wildcard sim/*.h) \
    $(B)/asan/libtally.a
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(SANFLAGS) -Isim $(PC_GW) $(PC_CM) -o $@ \
	    $< $(SIM_UNIT_SRCS) $(B)/asan/libtally.a $(PC_GWL) $(PC_CML) -lm

# The simulator's PDU codec: sim/pdu.c alone, against vectors from the
# old libGammu codec and from 23.040.
$(B)/tests/test_pdu: tests/unit/test_pdu.c tests/unit/unit.h sim/pdu.c \
    sim/pdu.h
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -Isim $(PC_CM) -o $@ $< sim/pdu.c $(PC_CML)

$(B)/asan/tests/test_pdu: tests/unit/test_pdu.c tests/unit/unit.h \
    sim/pdu.c sim/pdu.h
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(SANFLAGS) -Isim $(PC_CM) -o $@ $< sim/pdu.c \
	    $(PC_CML)

# The worker's guard before libGammu's PDU decoder: modem/pducheck.c
# alone (no libGammu), against PDUs at 23.040's bounds.
$(B)/tests/test_pducheck: tests/unit/test_pducheck.c tests/unit/unit.h \
    modem/pducheck.c modem/pducheck.h $(TALLY_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -Imodem $(PC_CM) -o $@ $< modem/pducheck.c \
	    $(PC_CML)

$(B)/asan/tests/test_pducheck: tests/unit/test_pducheck.c \
    tests/unit/unit.h modem/pducheck.c modem/pducheck.h $(TALLY_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(SANFLAGS) -Imodem $(PC_CM) -o $@ $< \
	    modem/pducheck.c $(PC_CML)

# The unit suites (plain and under ASan+UBSan), the regress shell
# tests and a short fuzz run; one summary line at the end.
test: all $(ASAN_BINS) $(ASAN_PROGS) $(FUZZ_BINS)
	@SHARED=$(SHARED) B=$(B) sh tests/run.sh

check:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory -j$$(nproc) test

# --- fuzzing --------------------------------------------------------

FUZZFLAGS := -std=gnu11 -g -O1 -Iinclude -D_GNU_SOURCE \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined

# Each target for FUZZ_SECONDS over its seeds (make check runs each for
# 30 s); a crash stops the run, its input kept in $(B)/fuzz/artifacts/.
FUZZ_SECONDS ?= 300

fuzz: $(FUZZ_BINS)
	@mkdir -p $(B)/fuzz/artifacts
	@for t in $(FUZZ_BINS); do \
		FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=-1 \
		    FUZZ_ARTIFACTS=$(B)/fuzz/artifacts \
		    sh tests/fuzz/smoke.sh $$t || exit 1; \
	done

$(B)/fuzz/gateway/tally/%.o: gateway/tally/%.c $(TALLY_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer-no-link $(PC_GW) -c $< -o $@

$(B)/fuzz/gateway/%.o: gateway/%.c $(GW_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer-no-link $(GW_INC) $(PC_GW) \
	    -c $< -o $@

$(B)/fuzz/libtally.a: $(TALLY_FUZZ)
	rm -f $@
	ar rcs $@ $^

$(B)/fuzz/libgw.a: $(GW_FUZZ)
	rm -f $@
	ar rcs $@ $^

$(B)/fuzz/%: tests/fuzz/%.c $(LIBS_FUZZ)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer $(GW_INC) $(PC_GW) -o $@ $< \
	    $(LIBS_FUZZ) $(PC_GWL) -lm

# The worker's reading of what libGammu decoded: modem/gsm.c compiled
# into the target (its functions are static), linked with libGammu.
$(B)/fuzz/fuzz_gsm: tests/fuzz/fuzz_gsm.c modem/gsm.c modem/gsm.h \
    modem/pducheck.c modem/pducheck.h $(B)/fuzz/libtally.a
	@mkdir -p $(@D)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer -Imodem $(PC_GAM) $(PC_GW) \
	    -o $@ $< modem/pducheck.c $(B)/fuzz/libtally.a $(PC_GAML) \
	    $(PC_GWL) -lm

# The worker's guard before libGammu's decoder, judged by libGammu's
# own decoder (not the guard's: the target does not define it).
$(B)/fuzz/fuzz_pducheck: tests/fuzz/fuzz_pducheck.c modem/pducheck.c \
    modem/pducheck.h
	@mkdir -p $(@D)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer -Imodem $(PC_GAM) -o $@ $< \
	    modem/pducheck.c $(PC_GAML)

# The simulator's AT interpreter with its modems, SMS centre and PDU
# codec (sim.c's clock and timers are the target's own).
FUZZ_AT_SRCS := sim/at.c sim/modem.c sim/smsc.c sim/pdu.c

$(B)/fuzz/fuzz_at: tests/fuzz/fuzz_at.c $(FUZZ_AT_SRCS) $(wildcard sim/*.h) \
    $(B)/fuzz/libtally.a
	@mkdir -p $(@D)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer -Isim $(PC_GW) -o $@ $< \
	    $(FUZZ_AT_SRCS) $(B)/fuzz/libtally.a $(PC_GWL) -lutil -lm

# tallyctl's HTTP client, compiled in (it is in no library either).
$(B)/fuzz/fuzz_httpc: tests/fuzz/fuzz_httpc.c gateway/ctl/httpc.c \
    gateway/ctl/httpc.h
	@mkdir -p $(@D)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer -Igateway/ctl -o $@ $< \
	    gateway/ctl/httpc.c

# The simulator's PDU decoder, compiled in (it is in no library).
$(B)/fuzz/fuzz_pdu: tests/fuzz/fuzz_pdu.c sim/pdu.c sim/pdu.h
	@mkdir -p $(@D)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer -Isim -o $@ $< sim/pdu.c

# --- demo, soak, bench ----------------------------------------------

demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@SHARED=$(SHARED) B=$(B) sh tests/demo.sh

# make bench: every section (about 40 minutes; docs/bench.md);
# BENCH_SECTIONS="bank memory" picks sections, BENCH_QUICK=1 a short run.
bench:
	@$(MAKE) --no-print-directory bench-deps
	@$(MAKE) --no-print-directory all
	@SHARED=$(SHARED) B=$(B) sh tests/bench.sh $(BENCH_SECTIONS)

# A long night: 3,000 polling stations through the whole world. Their
# 38,401 SMS needed about 2,400 reply SMS per SIM when every reply fit
# one SMS; a card-coded confirmation now echoes every number in up to 4
# parts, so the simulated operators' daily cap is raised well above
# that (past it, replies wait) and the night may take longer to settle.
# Before it, the long crash run (tests/regress/kills.sh): SOAK_KILLS
# kills of tallygw, a worker or the central receiver at moments drawn
# from SOAK_SEED (empty: from the clock; the run prints it to replay),
# then power-cut copies; docs/reliability.md has the last figures.
# Then the long fault run (tests/regress/faults.sh with FAULTS_LONG=1):
# tallysim's random faults and a lossy network under five minutes of
# load, seeded from SOAK_SEED too.
SOAK_KILLS ?= 30
SOAK_SEED ?=
soak: all
	@KILLS=$(SOAK_KILLS) KILLS_SEED=$(SOAK_SEED) KILLS_CUTS=10 \
	    SHARED=$(SHARED) B=$(B) sh tests/regress/kills.sh
	@FAULTS_LONG=1 FAULTS_SEED=$(SOAK_SEED) \
	    SHARED=$(SHARED) B=$(B) sh tests/regress/faults.sh
	@DEMO_TPS=3000 DEMO_MODEMS=16 DEMO_SCALE=60 DEMO_SETTLE=3600 \
	    DEMO_DAILY_CAP=10000 \
	    SHARED=$(SHARED) B=$(B) sh tests/demo.sh

# --- install --------------------------------------------------------

# The man pages (mdoc), the unit and the user, the example
# configuration, the web assets (gateway/web/, when there is one).
MANPAGES := man/tallygw.8 man/tallygw.conf.5 man/tallyctl.8 man/tallysim.1
WEBDIR	:= gateway/web

install: $(PROGS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(SYSCONFDIR)/tallygw
	install -m 0755 $(B)/tallygw $(B)/tallygw-modem $(B)/tallyctl \
	    $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(B)/tallysim $(DESTDIR)$(BINDIR)/
	install -m 0644 $(ELECTION_DEFAULT) gateway/ctl/mac-helper.html \
	    $(DESTDIR)$(SHAREDIR)/
	@if [ -d $(WEBDIR) ]; then \
		echo "install $(WEBDIR)/ -> $(DESTDIR)$(SHAREDIR)/web/"; \
		(cd $(WEBDIR) && find . -type d) | while read -r d; do \
			install -d "$(DESTDIR)$(SHAREDIR)/web/$$d" || exit 1; \
		done && \
		(cd $(WEBDIR) && find . -type f) | while read -r f; do \
			install -m 0644 "$(WEBDIR)/$$f" \
			    "$(DESTDIR)$(SHAREDIR)/web/$$f" || exit 1; \
		done; \
	fi
	for m in $(MANPAGES); do \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/ || exit 1; \
	done
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 docs/examples/tallygw.conf $(DESTDIR)$(DOCDIR)/examples/
	sed -e 's,@SBINDIR@,$(SBINDIR),g' \
	    -e 's,@SYSCONFDIR@,$(SYSCONFDIR),g' dist/tallygw.service.in \
	    >$(B)/tallygw.service
	install -m 0644 $(B)/tallygw.service $(DESTDIR)$(UNITDIR)/
	install -m 0644 dist/tallygw.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/tallygw.conf

clean:
	rm -rf $(B)
