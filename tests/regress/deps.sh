#!/bin/sh
# Every program the test scripts (and .ci/run, and the C tests through
# system() or popen()) run must be on a bare Debian 12 after `make deps':
# a shell builtin or keyword, a function of the scripts, one of our own
# programs, or in a package that debootstrap's minbase has (priority
# required, or essential) or that `make deps' installs (the Makefile's
# DEB_ALL and what those packages depend on). A program that is none of
# these fails its own line, naming the script that runs it: a person
# found `pgrep' missing on a bare machine once; this test finds the next.
# TAP.
B=${B:-build}
. tests/regress/lib.sh

D=$(mktemp -d "${TMPDIR:-/tmp}/tally-deps.XXXXXX") || exit 1
cleanup() {
	t_cleanup
	rm -rf "$D"
}
t_trap cleanup

SCRIPTS="tests/*.sh tests/regress/*.sh tests/fuzz/*.sh tests/bench/*.sh .ci/run"
OURS="tallysim tallygw tallyctl tallygw-modem wiredrive"

if ! command -v dpkg-query >/dev/null 2>&1; then
	t_fail "dpkg-query is here (a Debian system)"
	finish
	exit 1
fi

# shellcheck disable=SC2086
awk -f tests/tools/shcmds.awk $SCRIPTS >"$D/words"
sed -n 's/^func //p' "$D/words" | sort -u >"$D/funcs"
sed -n 's/^cmd //p' "$D/words" >"$D/uses"
# The C tests: the programs of their system() and popen() command
# lines (the format's first word; system() itself runs sh).
for f in $(grep -lE '(system|popen)\(' sim/*.c gateway/*.c gateway/*/*.c \
    modem/*.c tests/*/*.c 2>/dev/null); do
	echo "sh $f:1"
	for v in $(sed -n 's/.*\(system\|popen\)(\([A-Za-z_]*\).*/\2/p' "$f" |
	    sort -u); do
		grep -n "snprintf($v," "$f" | sed -n "s/^\([0-9]*\):[^\"]*\"'*\([A-Za-z][A-Za-z0-9_.+-]*\)[ '].*/\2 ${f##*/}:\1/p" |
		    sed "s,^\([^ ]*\) [^ ]*:,\1 $f:,"
	done
done >>"$D/uses"
expect_match "the extractor finds pgrep in gateway_ops.sh" \
    "$(cat "$D/uses")" '^pgrep tests/regress/gateway_ops\.sh:'
expect_match "the extractor finds pkill in gateway.sh" \
    "$(cat "$D/uses")" '^pkill tests/regress/gateway\.sh:'

DEB_ALL=$(MAKEFLAGS= make -s --no-print-directory -f Makefile print-deps)
expect_match "make print-deps lists the packages" "$DEB_ALL" '^[a-z0-9]'

# What `make deps' installs: DEB_ALL and, through Pre-Depends and
# Depends (the first of alternatives, a virtual package through what
# provides it), every package they pull in, as far as this system knows.
dpkg-query -W -f='${Package}\t${Pre-Depends}, ${Depends}\t${Provides}\n' \
    2>/dev/null | awk -F'\t' -v want="$DEB_ALL" '
function clean(d) {
	sub(/\|.*/, "", d)	# the first alternative
	sub(/\(.*/, "", d)
	sub(/:.*/, "", d)
	gsub(/[ \t]/, "", d)
	return d
}
{
	deps[$1] = $2
	n = split($3, p, ",")
	for (i = 1; i <= n; i++)
		if (!(clean(p[i]) in prov))
			prov[clean(p[i])] = $1
}
END {
	n = split(want, q, " ")
	for (i = 1; i <= n; i++)
		todo[q[i]] = 1
	do {
		more = 0
		for (pk in todo) {
			delete todo[pk]
			if (!(pk in deps) && (pk in prov))
				pk = prov[pk]
			if (pk in have)
				continue
			have[pk] = 1
			m = split(deps[pk], d, ",")
			for (j = 1; j <= m; j++)
				if (clean(d[j]) != "" && !(clean(d[j]) in have)) {
					todo[clean(d[j])] = 1
					more = 1
				}
		}
	} while (more)
	for (pk in have)
		print pk
}' | sort >"$D/installed"

# Which package ships which path, read once from dpkg's lists (what
# `dpkg -S' reads, but `dpkg -S' rereads them all at each call: a
# minute or more of this suite on a loaded machine).
awk '{ f = FILENAME; sub(/.*\//, "", f); sub(/\.list$/, "", f);
    sub(/:.*/, "", f); print $0 "\t" f }' /var/lib/dpkg/info/*.list \
    >"$D/owners" 2>/dev/null

# owner PATH: the packages that ship PATH (merged /usr and
# alternatives: also /bin for /usr/bin, and where a link leads).
owner() {
	for o_p in "$1" "$(readlink -f "$1")"; do
		for o_q in "$o_p" "$(echo "$o_p" | sed -n 's,^/usr/,/,p')"; do
			[ -n "$o_q" ] || continue
			awk -F '\t' -v p="$o_q" '$1 == p { print $2 }' \
			    "$D/owners" | sort -u | grep . && return 0
		done
	done
	return 1
}

# minbase PACKAGE: true if debootstrap's minbase has PACKAGE.
minbase() {
	case "$(dpkg-query -W -f='${Priority} ${Essential}' "$1" 2>/dev/null)" in
	required*|*yes) return 0 ;;
	esac
	return 1
}

# verdict NAME: why NAME may be run ("builtin", "ours", "package P"), or
# nothing (and false) when a bare system after `make deps' lacks it.
verdict() {
	if grep -Fqx -- "$1" "$D/funcs"; then
		echo "a function of the scripts"
		return 0
	fi
	for v_o in $OURS; do
		[ "$1" = "$v_o" ] && { echo "one of ours"; return 0; }
	done
	v_p=$(command -v -- "$1" 2>/dev/null)
	if [ -n "${v_p%%[!/]*}" ] && ! owner "$v_p" >/dev/null; then
		# not Debian's (a pyenv shim, /usr/local): Debian's own place
		for v_d in /usr/bin /bin /usr/sbin /sbin; do
			[ -x "$v_d/$1" ] && { v_p=$v_d/$1; break; }
		done
	fi
	case "$v_p" in
	'') echo "not installed here" ; return 1 ;;
	/*) ;;
	*) echo "a shell builtin or keyword"; return 0 ;;
	esac
	for v_k in $(owner "$v_p"); do
		if minbase "$v_k"; then
			echo "package $v_k (minbase)"
			return 0
		fi
		if grep -Fqx -- "$v_k" "$D/installed"; then
			echo "package $v_k (make deps)"
			return 0
		fi
		v_pk="$v_pk $v_k"
	done
	echo "in${v_pk:- no package}, which neither minbase nor make deps installs"
	return 1
}

for c in $(awk '{ print $1 }' "$D/uses" | sort -u); do
	v_pk=
	why=$(verdict "$c")
	if [ $? -eq 0 ]; then
		case "$why" in
		package*) t_ok "$c: $why" ;;
		esac
		continue
	fi
	# one failing line for each script that runs it
	for w in $(awk -v c="$c" '$1 == c { sub(/:.*/, "", $2); print $2 }' \
	    "$D/uses" | sort -u); do
		t_fail "$c (run by $w, line $(awk -v c="$c" -v w="$w" \
		    '$1 == c && index($2, w ":") == 1 { sub(/.*:/, "", $2);
		    print $2; exit }' "$D/uses")): $why"
	done
done

finish
