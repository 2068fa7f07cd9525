#!/bin/sh
# The scenario's expected outcomes come from sim/truth.c (what each
# officer meant and the mistake made, by docs/protocol.md's rules),
# never from the gateway's verify stage, which the oracle judges
# (issue 11): no source of sim/ calls a function of
# gateway/tally/verify.c, and tallysim does not link that file. Its
# agreement with verify is tests/unit/test_truth.c's. TAP.
B=${B:-build}
. tests/regress/lib.sh

D=$(mktemp -d "${TMPDIR:-/tmp}/tally-truth.XXXXXX") || exit 1
cleanup() {
	t_cleanup
	rm -rf "$D"
}
t_trap cleanup

# A call: verify_ at the start of a word (not central_verify), then (.
calls=$(grep -nE '(^|[^A-Za-z0-9_])verify_[a-z_]+[[:space:]]*\(' \
    sim/*.c sim/*.h)
expect "no source of sim/ calls a verify_ function" "$calls" ""
expect_match "the scenario's outcomes come from truth_judge" \
    "$(grep -n 'truth_judge(' sim/scenario.c)" 'truth_judge\('

# The binary: a static link pulls in verify.o for any one of its
# functions, and with it verify_report.
nm "$B/tallysim" >"$D/syms" 2>&1
syms() {
	grep -E "$1" "$D/syms" | sed 's/^[0-9a-f]* //'
}
expect "nm reads tallysim's symbols" "$(syms ' T scenario_build$')" \
    "T scenario_build"
expect "tallysim has the truth model" "$(syms ' T truth_judge$')" \
    "T truth_judge"
expect "tallysim links nothing of verify.c (verify_report)" \
    "$(syms ' [A-Za-z] verify_')" ""
finish
