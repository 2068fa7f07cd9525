#!/bin/sh
# A flood through the simulated network into the real tallygw
# (docs/security.md, "Floods"; docs/reliability.md, "A flood"): a world
# of 8 modems (instant profile) gets, as fast as the SIMs take them,
# 3,000 SMS of junk from 2,000 numbers, 500 forged reports (bad codes)
# from 500 more, 400 SMS from one number, and among them 40 officers'
# valid signed reports (tallyctl mac), spread through the flood.
# Asserted:
# - every SMS the network delivered to the modems is stored, once;
# - the flooder is rate-limited: rate_limit (60) of its SMS answered
#   in each rate_window,
#   the rest stored as kind rate and not answered; every other SMS
#   answered once;
# - the rate and lockout tables and the long-SMS table stay bounded
#   while the flood comes (sampled from tallyctl status) and are empty
#   once their windows (40 s here) have passed: swept on the tick;
# - the total PSS of tallygw and its workers stays under FLOOD_PSS_MIB
#   (64) and does not keep growing (the last third of the samples no
#   more than 8 MiB over the first third's largest);
# - every officer is confirmed, and the latency from its SMS reaching
#   the modem to its confirmation being sent (the store's sent_at) is
#   printed and under FLOOD_LATENCY_S (8): reply_merge_wait (2 s) and
#   the loop's 1 s tick, sent_at's whole second, 4 s for a machine
#   running three suites on two cores (alone: 3 s at most). Before the outbox sent confirmations first, the officers
#   waited behind the answers to the junk (up to 11 s here, growing
#   with the flood);
# - the outbox drains: nothing queued at the end, no reply failed.
# TAP; every wait is time-boxed. FLOOD_KEEP=1 keeps the run's files.

. tests/regress/lib.sh

PSS_MAX=${FLOOD_PSS_MIB:-64}
LAT_MAX=${FLOOD_LATENCY_S:-8}
WINDOW=40			# rate_window, lockout_window of this gateway
KEEP=${FLOOD_KEEP:-}
t_pieces flood
R=$D/run
INJ=$D/bench_inject
if ! ${CC:-cc} -std=gnu11 -O2 -Wall -o "$INJ" tests/bench/bench_inject.c
then
	t_fail "bench_inject builds"
	finish
	exit 1
fi

# The world's configuration with short windows, so that the test sees
# the tables swept (a wrapper edits what world writes).
printf '%s\n' '#!/bin/sh' \
    "sed '/^\\[tunables\\]/a rate_window = $WINDOW\\nlockout_window = \
$WINDOW' \"\$3\" >'$D/gw.conf' || exit 1" \
    "exec '$GW' \"\$1\" \"\$2\" '$D/gw.conf'" >"$D/gw.sh"
chmod 755 "$D/gw.sh"
if ! t_world "$R" --modems 8 --seed 31 --profile instant --data "$DATA" \
    --daily-cap 0 --tallygw "$D/gw.sh"; then
	finish
	exit 1
fi
expect "the gateway runs with rate_window = $WINDOW" \
    "$(grep -c "^rate_window = $WINDOW\$" "$D/gw.conf")" 1
db() { sqlite3 -cmd '.timeout 10000' "$R/gw/tallygw.db" "$1"; }
status() { "$CTL" status --state "$R/gw" 2>/dev/null; }

# tallygw: the world's child of that name.
GWPID=
for p in $(cat /proc/"$T_WORLD"/task/*/children 2>/dev/null); do
	[ "$(cat /proc/"$p"/comm 2>/dev/null)" = tallygw ] && GWPID=$p
done
expect_match "tallygw's process is found" "$GWPID" '^[0-9]+$'

# --- the feed ----------------------------------------------------------
# Rows of the 2024 results: 40 for the officers (signed), 60 more for
# the forged reports (a code that is no MAC of theirs).
t_rows "$DATA" 100 >"$D/rows.txt"
head -n 40 "$D/rows.txt" >"$D/off.txt"
"$CTL" mac --key "$R/root.key" --batch "$D/off.txt" >"$D/off.signed"
expect "tallyctl mac signs the 40 officers' reports" \
    "$(grep -vc REJECTED "$D/off.signed")" 40
tail -n 60 "$D/rows.txt" | tr '*' ' ' >"$D/forged.txt"
# Shuffled with a fixed seed; an officer every NTOTAL / 40 lines.
awk -v seed=31 'BEGIN { srand(seed) }
FILENAME == ARGV[1] { off[++no] = $0; next }
{ forged[++nf] = $0 }
END {
	n = 0
	for (i = 0; i < 3000; i++)
		line[n++] = sprintf("+628570%06d halo %d apa kabar",
		    i < 2000 ? i : int(rand() * 2000), i)
	for (i = 0; i < 500; i++)
		line[n++] = sprintf("+628571%06d %s %08d", i,
		    forged[1 + i % nf], int(rand() * 100000000))
	for (i = 0; i < 400; i++)
		line[n++] = sprintf("+6285999999999 banjir %d", i)
	for (i = n - 1; i > 0; i--) {
		j = int(rand() * (i + 1))
		t = line[i]; line[i] = line[j]; line[j] = t
	}
	step = int(n / no); k = 1
	for (i = 0; i < n; i++) {
		if (i % step == int(step / 2) && k <= no)
			printf "+628128%06d %s\n", k, off[k++]
		print line[i]
	}
}' "$D/off.signed" "$D/forged.txt" >"$D/feed.txt"
NFEED=$(wc -l <"$D/feed.txt")
expect "the feed holds 3,940 SMS" "$NFEED" 3940

# --- the flood, sampled ------------------------------------------------
# Every second: the PSS of tallygw and its workers ("pss EPOCH KIB",
# bench_inject -s); every 2 s tallyctl status's tables and queues.
"$INJ" -d "$R" -s 1000 "$GWPID" >"$D/samples" 2>/dev/null &
SAMPLER=$!
t_track "$SAMPLER"
(
	while :; do
		status | awk -v t="$(date +%s)" '$1 ~ /^(rate_senders|lockout_entries|parts_pending|replies_queued)$/ { printf "%s %s %s\n", t, $1, $2 }'
		sleep 2
	done
) >"$D/tables" 2>/dev/null &
t_track $!
T0=$(date +%s)
"$INJ" -d "$R" -k 8 "$D/feed.txt" >"$D/inj.out" 2>"$D/inj.err"
expect "bench_inject puts every SMS into the network" "$?" 0
T1=$(date +%s)
stored_all() { [ "$(db 'SELECT count(*) FROM messages')" -ge "$NFEED" ]; }
wait_for 60 stored_all
T2=$(date +%s)
echo "# $NFEED SMS injected in $((T1 - T0)) s, stored after $((T2 - T0)) s"
idle() {
	[ "$(db "SELECT (SELECT count(*) FROM outbox WHERE state IN
	    ('queued', 'sending')) + (SELECT count(*) FROM replies WHERE
	    out_id IS NULL)")" -eq 0 ]
}
wait_for 90 idle
echo "# every reply sent after $(($(date +%s) - T0)) s"

# --- nothing lost ------------------------------------------------------
NET=$("$SIM" ctl --dir "$R" stats --json |
    sed -n 's/.*"delivered_to_modems":\([0-9]*\).*/\1/p')
expect "the network delivered every SMS to the modems" "$NET" "$NFEED"
expect "the store holds every SMS the network delivered" \
    "$(db 'SELECT count(*) FROM messages')" "$NET"
expect "no SMS is stored twice" "$(db "SELECT count(*) FROM (SELECT
    sender, raw FROM messages GROUP BY sender, raw HAVING count(*) > 1)")" 0

# --- the flooder -------------------------------------------------------
F=+6285999999999
expect "the flooder's SMS are all stored" \
    "$(db "SELECT count(*) FROM messages WHERE sender = '$F'")" 400
# What the rule (docs/security.md, "Floods") allows: rate_limit (60)
# answers per window of rate_window seconds from the first SMS of the
# window, counted from the arrival times the store kept. On a loaded
# machine the flood may last longer than one window.
ALLOW=$(db "SELECT strftime('%s', received_at) FROM messages
    WHERE sender = '$F' ORDER BY id" | awk -v w="$WINDOW" -v l=60 '
	NR == 1 || $1 - s >= w { s = $1; c = 0; n++ }
	++c <= l { a++ }
	END { print a + 0, n + 0 }')
WINDOWS=${ALLOW#* }
ALLOW=${ALLOW% *}
expect "the flooder is answered rate_limit (60) times a window" \
    "$(db "SELECT count(*) FROM replies WHERE dest = '$F'")" \
    "$ALLOW"
echo "# the flooder's 400 SMS spanned $WINDOWS window(s) of $WINDOW s:" \
    "$ALLOW may be answered"
expect "the rest of the flooder's SMS are kind rate, unanswered" \
    "$(db "SELECT count(*) FROM messages m WHERE sender = '$F' AND
    kind = 'rate' AND NOT EXISTS (SELECT 1 FROM replies r
    WHERE r.msg_id = m.id)")" $((400 - ALLOW))
expect "every other SMS is answered once" \
    "$(db "SELECT count(*) FROM messages m WHERE sender != '$F' AND
    (SELECT count(*) FROM replies r WHERE r.msg_id = m.id) = 1")" \
    $((NFEED - 400))
expect "no reply failed, nothing is left queued" \
    "$(db "SELECT count(*) FROM outbox WHERE state NOT IN
    ('sent', 'delivered')")" 0
expect "the forged reports are rejected CODE_BAD" \
    "$(db "SELECT count(*) FROM messages WHERE sender LIKE '+628571%'
    AND reason = 'CODE_BAD'")" 500

# --- the officers --------------------------------------------------------
expect "the 40 officers' reports are accepted" \
    "$(db "SELECT count(*) FROM messages WHERE sender LIKE '+628128%'
    AND verdict IN ('OK', 'FLAGGED')")" 40
# Arrival at the modem: bench_inject's epoch (instant profile: the SIM
# takes it then); sent: the outbox's sent_at of its confirmation.
db "SELECT m.sender, o.sent_at FROM messages m JOIN replies r ON
    r.msg_id = m.id JOIN outbox o ON o.id = r.out_id WHERE m.sender LIKE
    '+628128%' AND o.sent_at IS NOT NULL" | tr '|' ' ' >"$D/sent.txt"
awk 'NR == FNR { sent[$1] = $2; next }
$3 ~ /^\+628128/ && ($3 in sent) { printf "%.3f\n", sent[$3] - $4 }' \
    "$D/sent.txt" "$D/inj.out" | sort -g >"$D/lat.txt"
expect "every officer's confirmation is sent" "$(wc -l <"$D/lat.txt")" 40
LAT=$(awk '{ v[NR] = $1 } END { if (NR) printf "%.1f %.1f %.1f",
    v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.999)], v[NR] }' "$D/lat.txt")
echo "# officers' confirmation latency p50 / p90 / max: $LAT s" \
    "(sent_at has whole seconds)"
set -- $LAT
expect "every officer is confirmed within $LAT_MAX s" \
    "$(awk -v m="${3:-999}" -v b="$LAT_MAX" 'BEGIN { print (m <= b) }')" 1

# --- memory and tables -------------------------------------------------
awk '$1 == "pss" { print $3 }' "$D/samples" >"$D/pss.txt"
NS=$(wc -l <"$D/pss.txt")
PSS=$(awk -v n="$NS" '{ v[NR] = $1; if ($1 > m) m = $1 }
END {
	t = int(n / 3)
	for (i = 1; i <= t; i++) if (v[i] > a) a = v[i]
	for (i = n - t + 1; i <= n; i++) if (v[i] > z) z = v[i]
	printf "%d %d %d", m, a, z
}' "$D/pss.txt")
set -- $PSS
echo "# PSS of tallygw and its workers, $NS samples: largest $(($1 / 1024))" \
    "MiB; first third $(($2 / 1024)) MiB, last third $(($3 / 1024)) MiB"
expect "the PSS stays under $PSS_MAX MiB" \
    "$([ "${1:-0}" -gt 0 ] && [ "$1" -le $((PSS_MAX * 1024)) ] && echo ok)" ok
expect "the PSS does not keep growing (last third <= first + 8 MiB)" \
    "$([ "${3:-0}" -le $((${2:-0} + 8192)) ] && echo ok)" ok
TBL=$(awk '{ if ($3 > m[$2]) m[$2] = $3 }
END { printf "%d %d %d %d", m["rate_senders"], m["lockout_entries"],
    m["parts_pending"], m["replies_queued"] }' "$D/tables")
set -- $TBL
echo "# largest while flooded: rate_senders $1, lockout_entries $2," \
    "parts_pending $3, replies_queued $4"
# 2,000 + 500 + 40 + 1 senders; a (sender, TPS) and a TPS entry per
# forged report's pair: at most 500 + 60.
expect "the rate table holds at most one entry per sender (2,541)" \
    "$([ "${1:-0}" -gt 0 ] && [ "$1" -le 2541 ] && echo ok)" ok
expect "the lockout table holds at most 560 entries" \
    "$([ "${2:-0}" -gt 0 ] && [ "$2" -le 560 ] && echo ok)" ok
expect "replies queued never exceed the SMS answered ($((NFEED - 340)))" \
    "$([ "${4:-0}" -le $((NFEED - 340)) ] && echo ok)" ok
# The windows pass: both tables are swept empty by the tick.
swept() {
	status | awk '$1 == "rate_senders" { r = $2 }
	    $1 == "lockout_entries" { l = $2 }
	    END { exit !(r == 0 && l == 0) }'
}
wait_for $((WINDOW + 30)) swept
expect "the rate and lockout tables are empty once their windows passed" \
    "$?" 0
kill "$SAMPLER" 2>/dev/null
kill -TERM "$T_WORLD"
wait "$T_WORLD"
expect "the world stops on SIGTERM" "$?" 0
finish
