#!/bin/sh
# Crash consistency (issue 11; docs/reliability.md): SIGKILL at seeded
# random moments while simulated KPPS phones keep sending, and copies
# of the store as a power cut leaves it.
#
# Part 1: a tallysim scenario plays into tallygw (3 modems, realistic
# timing at x60) while the test kills, one at a time, tallygw (which
# then starts again), one of its modem workers (which tallygw restarts)
# or tallysim's central receiver (started again after a moment down).
# Then the oracle must find nothing lost, nothing held twice at the
# central receiver, every accepted report confirmed, and no reply SMS
# reaches a phone more often than the store holds it, except a reply
# in flight at a kill:
#   an SMS may come twice only if, at the moment of a kill of tallygw
#   or of the worker sending it, the store had it in state `sending'
#   and that worker had not yet logged the modem's message reference
#   (a confirmed send is journaled first: it is never sent again);
#   it may come once more for each such kill, never otherwise.
# Part 2: the same rule, deterministic: tallygw is killed between the
# modem's confirmation of a reply and the commit of that result (the
# phone gets it once: it is not sent again), and killed with its
# workers before the modem answered (the reply is sent again: never
# lost).
# Part 3: power cuts: a whole night in seconds; at seeded
# moments the store is copied as it is on disk, with every phone's
# inbox; each copy must open, recover, pass integrity_check and hold
# every reply that had reached a phone (test_powercut covers what an
# fsync does not yet hold).
#
# KILLS (default 6) kills; KILLS_SEED (default: from the clock) draws
# their kinds and moments, the copies' moments and the scenarios; it is
# printed first, and KILLS_SEED=N replays a run (the moments are as
# drawn; the machine's timing is not). KILLS_TPS (default 2 x KILLS)
# polling stations in part 1, KILLS_CUTS (5) copies of a night of
# KILLS_CUT_TPS (10 a copy) in part 3; KILLS_KEEP=1 keeps the run's files.
# make soak runs it with 30 kills. TAP; every wait is time-boxed.

. tests/regress/lib.sh

KILLS=${KILLS:-6}
SEED=${KILLS_SEED:-$(($(date +%s) % 100000))}
TPS=${KILLS_TPS:-$((KILLS * 2))}
CUTS=${KILLS_CUTS:-5}
CUT_TPS=${KILLS_CUT_TPS:-$((CUTS * 10))}
SCALE=60
echo "# kills: seed $SEED, $KILLS kills, $TPS TPS" \
    "(replay: KILLS_SEED=$SEED KILLS=$KILLS KILLS_TPS=$TPS)"

KEEP=${KILLS_KEEP:-}
t_pieces kills

# --- the pieces ---------------------------------------------------------

t_sim 3 "$SEED" "$SCALE"
expect "every SIM has the airtime given" \
    "$(sctl modems --json | grep -c '"balance":5000000,')" 3
t_keys
# The central receiver, always on the port of its first run.
t_central

t_gwconf kills-gw <<EOF
[tunables]
sweep_interval = 2
restart_max = 4
forward_max = 4
reply_retry_max = 4
send_hold_min = 2
send_hold_max = 4
EOF

# tallygw in a process group of its own, with its workers; every run's
# log is appended to gw.err (the workers write to it too).
t_gw_first

# sig SIGNAL: to tallygw's whole group (the main process and workers).
sig() { env kill -s "$1" -- "-$GPID" 2>/dev/null; }
# The SMS a worker had confirmed (its log line follows the journal).
confirmed() {
	sed -n "s/.*modem $1: send \([0-9]*\) to .*: message reference.*/\1/p" \
	    "$D/gw.err"
}
# inflight MODEM-PATTERN: what was in flight, less what was confirmed:
# the SMS that may reach its phone once more (appended to allowed).
inflight() {
	db "SELECT id FROM outbox WHERE state = 'sending' AND modem GLOB '$1'" \
	    >"$D/sending"
	confirmed "$1" | sort -u >"$D/confirmed"
	sort -u "$D/sending" | comm -23 - "$D/confirmed" >>"$D/allowed"
}
: >"$D/allowed"

kill_gw() {
	sig STOP
	kill -KILL "$GPID"
	inflight '*'
	sig CONT
	wait "$GPID" 2>/dev/null
	t_gw || { t_fail "tallygw starts again after kill $1"; return 1; }
}

kill_worker() {
	w=
	wait_for 60 sh -c "ps -o args= --ppid $GPID | grep -q -- '-n m$2 '"
	w=$(ps -o pid=,args= --ppid "$GPID" | awk -v n="m$2" \
	    '$0 ~ "-n " n " " { print $1; exit }')
	[ -n "$w" ] || { t_fail "worker m$2 runs for kill $1"; return 1; }
	sig STOP
	kill -KILL "$w"
	inflight "m$2"
	sig CONT
}

kill_central() {
	kill -KILL "$CPID"
	wait "$CPID" 2>/dev/null
	sleep "$2"
	t_central || { t_fail "the central starts again after kill $1"; \
	    return 1; }
}

# --- part 1: kills at random moments ------------------------------------

# The plan: kinds in shuffled rounds of three, so that each kind comes;
# a pause of 1.5-6 s before each kill; the worker to kill; how long
# the central receiver stays down (0-3 s).
awk -v seed="$SEED" -v k="$KILLS" 'BEGIN {
	srand(seed)
	split("gw worker central", kind, " ")
	for (i = 1; i <= k; i++) {
		if ((i - 1) % 3 == 0)
			for (j = 3; j > 1; j--) {
				r = int(rand() * j) + 1
				t = kind[j]; kind[j] = kind[r]; kind[r] = t
			}
		printf "%s %.1f %d %.1f\n", kind[(i - 1) % 3 + 1],
		    1.5 + rand() * 4.5, int(rand() * 3), rand() * 3
	}
}' >"$D/plan"

# The phones send for about as long as the kills take (x60: a minute
# of night a second; follow-ups come up to half a night after it).
NIGHT=$(( (KILLS * 5 + 8) * SCALE ))
t_scenario "the scenario starts" "$TPS" "$SEED" "$NIGHT"
T0=$(now)
n=0
ngw=0
nworker=0
ncentral=0
playing=0
while read -r kind pause modem down; do
	n=$((n + 1))
	sleep "$pause"
	st=$(sctl scenario status --json)
	case $st in *'"state":"playing"'*) playing=$((playing + 1)) ;; esac
	what=$kind
	[ "$kind" = worker ] && what="worker m$modem"
	echo "# kill $n at $(($(now) - T0)) s: $what ($(printf '%s' "$st" |
	    sed -n 's/.*"sent":\([0-9]*\).*"total":\([0-9]*\).*/\1 of \2/p') sent)"
	case $kind in
	gw)	kill_gw "$n" && ngw=$((ngw + 1)) ;;
	worker)	kill_worker "$n" "$modem" && nworker=$((nworker + 1)) ;;
	central) kill_central "$n" "$down" && ncentral=$((ncentral + 1)) ;;
	esac
done <"$D/plan"
expect "every kill was done ($ngw tallygw, $nworker worker, $ncentral central)" \
    "$((ngw + nworker + ncentral))" "$KILLS"
expect "most kills came while the phones were sending ($playing)" \
    "$((playing * 2 >= KILLS))" 1

# Settled: the scenario played, and nothing missing for the oracle
# (replies sent twice are judged below, not waited for).
missing() {
	sctl oracle --json --central-dir "$C" 2>/dev/null >"$D/oracle.json"
	[ -s "$D/oracle.json" ] &&
	    ! grep '"check"' "$D/oracle.json" |
	    grep -qv '"check":"\(CONFIRM_EXTRA\|REPLY_EXTRA\)"'
}
wait_for 120 sh -c "timeout 30 '$SIM' ctl --dir '$S' scenario status --json |
    grep -q '\"state\":\"done\"'"
expect "the scenario is played" "$?" 0
echo "# played at $(($(now) - T0)) s"
wait_for 300 missing
grep '"check"' "$D/oracle.json" | cut -c1-200 >"$D/last.txt"
echo "# settled at $(($(now) - T0)) s"
t_oracle
bad=$(grep '"check"' "$D/oracle.json" |
    grep -v '"check":"\(CONFIRM_EXTRA\|REPLY_EXTRA\)"')
expect "after $KILLS kills no report is lost, none is held twice, every one confirmed" \
    "$(printf '%s' "$bad" | grep -c .)" 0
[ -n "$bad" ] && printf '%s\n' "$bad" | head -10 | cut -c1-300 |
    sed 's/^/#   /'

# Replies: what each phone received against what the store holds.
t_inboxes >"$D/inbox.jsonl"
# replies.py with no log: only the SMS in flight at a kill may come twice.
python3 tests/regress/replies.py --allowed "$D/allowed" /dev/null \
    "$G/tallygw.db" "$D/inbox.jsonl" >"$D/doubles"
expect "python3 judged the replies" "$?" 0
tail -1 "$D/doubles" | sed 's/^/# /'
echo "# $(grep -c 'took it before its worker went away' "$D/gw.err") replies" \
    "settled from a worker's journal, not sent again"
expect "no reply reached a phone twice unless in flight at a kill" \
    "$(grep -c '^twice' "$D/doubles")" 0
grep '^twice' "$D/doubles" | head -5 | cut -c1-200 | sed 's/^/#   /'
t_records
# /status counts in memory, from start-up's count on (docs/admin.md):
# after the kills it must still count what the store holds.
expect_match "after $KILLS kills /status counts what the store holds" \
    "$(t_counts "$G")" '^agree 17$'

echo "# part 1: $(($(now) - T0)) s"
T0=$(now)

# --- part 2: a reply across a crash, deterministic -----------------------

# One AT+CMGS now takes 3 s: time to catch the gateway in the middle.
sctl timing --profile realistic --scale 1 --daily-cap 0 >/dev/null
X=6501011001001
rep() { "$CTL" mac --key "$D/root.key" "PPWP $X $1 269 63 181 16 260 9"; }
# reply_to PHONE: the outbox row of the reply to PHONE, once sending.
sending_to() {
	db "SELECT id FROM outbox WHERE dest = '$1' AND state = 'sending'"
}
inbox_n() { sctl inbox --phone "$1" | grep -c .; }
settled() {
	[ "$(db "SELECT count(*) FROM outbox WHERE dest = '$1' AND
	    state IN ('queued', 'sending')")" = 0 ] &&
	    [ "$(db "SELECT count(*) FROM outbox WHERE dest = '$1'")" -ge 1 ]
}

# a) the modem confirms, the gateway dies before committing it.
P1=+6281299990001
sctl inject --from "$P1" --to 0 "$(rep 91)" >/dev/null
wait_for 60 sh -c "[ -n \"\$(sqlite3 -cmd '.timeout 5000' '$G/tallygw.db' \
    \"SELECT id FROM outbox WHERE dest = '$P1' AND state = 'sending'\")\" ]"
id=$(sending_to "$P1")
kill -STOP "$GPID"			# the main process only
wait_for 60 sh -c "grep -q 'send $id to .*message reference' '$D/gw.err'"
expect "the modem confirmed the reply while tallygw was stopped" "$?" 0
kill -KILL "$GPID"
wait "$GPID" 2>/dev/null
expect "the store had not committed that result" \
    "$(db "SELECT state FROM outbox WHERE id = $id")" sending
t_gw
expect "tallygw starts again" "$?" 0
wait_for 60 settled "$P1"
expect "the reply is sent, not sent again" \
    "$(db "SELECT state IN ('sent', 'delivered'), attempts FROM outbox
    WHERE id = $id")" "1|1"
wait_for 30 sh -c "[ \$(timeout 30 '$SIM' ctl --dir '$S' inbox --phone \
    '$P1' | grep -c .) -ge 1 ]"
expect "the phone received its confirmation once" "$(inbox_n "$P1")" 1
expect_match "tallygw read it from the worker's journal" \
    "$(grep "sms $id: modem m0 took it" "$D/gw.err")" 'journal'

# b) tallygw and its workers die before the modem answered: sent again.
P2=+6281299990002
sctl inject --from "$P2" --to 0 "$(rep 92)" >/dev/null
wait_for 60 sh -c "[ -n \"\$(sqlite3 -cmd '.timeout 5000' '$G/tallygw.db' \
    \"SELECT id FROM outbox WHERE dest = '$P2' AND state = 'sending'\")\" ]"
sig STOP
id=$(sending_to "$P2")
expect "the modem had not confirmed it yet" \
    "$(grep -c "send $id to .*message reference" "$D/gw.err")" 0
sig KILL
wait "$GPID" 2>/dev/null
t_gw
expect "tallygw starts again after losing its workers" "$?" 0
wait_for 90 settled "$P2"
expect "the reply whose fate was unknown is sent again" \
    "$(db "SELECT state IN ('sent', 'delivered'), attempts >= 2 FROM outbox
    WHERE id = $id")" "1|1"
wait_for 30 sh -c "[ \$(timeout 30 '$SIM' ctl --dir '$S' inbox --phone \
    '$P2' | grep -c .) -ge 1 ]"
expect_match "the phone has it (once, or twice: in flight at the kill)" \
    "$(inbox_n "$P2")" '^[12]$'

# c) The slot of a committed SMS whose delete was done but not yet
# known when tallygw died stays in the store's slot table; if the same
# officer's next SMS lands in it within the same second (SMSC times
# have whole seconds), it must not be taken for the committed one and
# deleted unread (this lost reports in gateway.sh's crash, instant
# timing). A trigger makes the store keep that row, as such a crash
# leaves it; the SMS then follow each other at once.
sctl timing --profile instant >/dev/null
P3=+6281299990003
db "CREATE TRIGGER kills_keep BEFORE DELETE ON sim_slots WHEN (SELECT
    sender FROM messages WHERE id = old.msg_id) = '$P3' BEGIN SELECT
    RAISE(IGNORE); END"
seqs() { db "SELECT count(*) FROM messages WHERE tps = $X AND seq = $1"; }
stored() {
	[ "$(sqlite3 -cmd '.timeout 5000' "$G/tallygw.db" "SELECT count(*)
	    FROM messages WHERE tps = $X AND seq = $1")" = 1 ]
}
dels() { grep -c 'modem m0: delete .*: location .* deleted' "$D/gw.err"; }
hit=
seq=100
while [ -z "$hit" ] && [ "$seq" -lt 110 ]; do
	seq=$((seq + 2))
	# Early in a second: both SMS must get one SMSC time.
	wait_for 3 sh -c '[ "$(date +%N | cut -c1)" = 0 ]'
	a0=$(now)
	n=$(dels)
	sctl inject --from "$P3" --to 0 "$(rep $seq)" >/dev/null
	wait_for 30 sh -c "[ \$(grep -c 'modem m0: delete .*: location .* deleted' \
	    '$D/gw.err') -gt $n ]"
	sctl inject --from "$P3" --to 0 "$(rep $((seq + 1)))" >/dev/null
	same=$(now)
	wait_for 30 stored "$((seq + 1))"
	# Both read from one SIM slot, within one second?
	[ "$same" = "$a0" ] && [ "$(grep "modem m0: sms from $P3 at location" \
	    "$D/gw.err" | tail -2 | sed 's/.* at location \([0-9]*\),.*/\1/' |
	    uniq | grep -c .)" = 1 ] && hit=1
	# The other way of losing it: a slot deleted again later.
	wait_for 10 sh -c "[ \$(timeout 10 '$SIM' ctl --dir '$S' sim \
	    --modem 0 | grep -c .) = 0 ]"
done
db "DROP TRIGGER kills_keep"
expect "two SMS of one officer came in one second through one slot" \
    "$hit" 1
expect "the second is stored, not deleted unread as the first" \
    "$(seqs $((seq + 1)))" 1
expect "the first is stored once" "$(seqs $seq)" 1

echo "# part 2: $(($(now) - T0)) s"
T0=$(now)

# --- part 3: power cuts during heavy writing ----------------------------

# A night of CUT_TPS polling stations plays in about CUTS + 5 seconds,
# whatever the gateway's speed (realistic timing, scaled; at instant
# timing a fast gateway was done before the last copies): it reads,
# commits, replies and forwards all along. At seeded
# moments tallygw's main process (the store's only writer) is frozen,
# its database and WAL copied as they are (what the kernel holds: the
# state a power cut leaves once what was synced is on disk, see
# docs/reliability.md and test_powercut), and every phone's inbox
# taken; then it goes on.
sctl timing --profile realistic --scale "$((43200 / (CUTS + 5)))" \
    --daily-cap 0 >/dev/null
n=$(db "SELECT count(*) FROM messages")
t_scenario "the heavy scenario starts" "$CUT_TPS" "$((SEED + 1))" 43200
wait_for 60 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$G/tallygw.db' \
    'SELECT count(*) FROM messages') -gt $n ]"
mkdir -p "$D/cuts"
awk -v seed="$SEED" -v k="$CUTS" 'BEGIN { srand(seed + 1)
	for (i = 1; i <= k; i++) printf "%.1f\n", 0.2 + rand() * 0.8 }' |
while read -r pause; do
	sleep "$pause"
	k=$(($(ls "$D/cuts" | grep -c '\.db$') + 1))
	kill -STOP "$GPID"
	cp "$G/tallygw.db" "$D/cuts/$k.db"
	[ -f "$G/tallygw.db-wal" ] && cp "$G/tallygw.db-wal" "$D/cuts/$k.db-wal"
	t_inboxes >"$D/cuts/$k.inbox"
	kill -CONT "$GPID"
done
expect "$CUTS copies were taken" "$(ls "$D/cuts" | grep -c '\.db$')" "$CUTS"
python3 - "$D/cuts" >"$D/cuts.txt" <<'EOF2'
import glob, json, os, sqlite3, sys
prev = None
for db in sorted(glob.glob(sys.argv[1] + "/*.db"),
                 key=lambda p: int(os.path.basename(p)[:-3])):
    k = os.path.basename(db)[:-3]
    c = sqlite3.connect(db)
    ok = c.execute("PRAGMA integrity_check").fetchone()[0]
    msgs = c.execute("SELECT count(*) FROM messages").fetchone()[0]
    work = c.execute("SELECT (SELECT count(*) FROM messages), (SELECT"
                     " count(*) FROM outbox WHERE state IN ('sent',"
                     " 'delivered')), (SELECT count(*) FROM forwards"
                     " WHERE state = 'acked')").fetchone()
    held = set(c.execute("SELECT dest, text FROM outbox"))
    missing = 0
    n = 0
    for line in open(db[:-3] + ".inbox"):
        m = json.loads(line)
        n += 1
        if (m["to"], m["text"]) not in held:
            missing += 1
            print("missing in copy %s: %s %r" % (k, m["to"], m["text"][:60]))
    orphan = c.execute("SELECT count(*) FROM replies r LEFT JOIN messages m"
                       " ON m.id = r.msg_id WHERE m.id IS NULL").fetchone()[0]
    print("copy %s: integrity %s, %d messages, %d replies on phones, "
          "%d missing, %d orphans, %s" % (k, ok, msgs, n, missing, orphan,
          "written since" if work != prev else "not written since"))
    prev = work
EOF2
expect "python3 judged the copies" "$?" 0
sed -n 's/^copy/# copy/p' "$D/cuts.txt"
expect "every copy opens, recovers and passes integrity_check" \
    "$(grep -c '^copy .*: integrity ok,' "$D/cuts.txt")" "$CUTS"
expect "every reply on a phone before a copy is in that copy" \
    "$(grep -c '^missing' "$D/cuts.txt")" 0
grep '^missing' "$D/cuts.txt" | head -5 | sed 's/^/#   /'
expect "no reply without its message in any copy" \
    "$(grep -c ', [1-9][0-9]* orphans' "$D/cuts.txt")" 0
# The writing comes in bursts (the officers' reports do): most copies,
# not each, find it moved on since the one before.
w=$(grep -c ', written since' "$D/cuts.txt")
expect "the store was being written between the copies ($w of $CUTS)" \
    "$((w * 2 > CUTS))" 1

echo "# part 3: $(($(now) - T0)) s"
t_stop "$GPID"
[ "$T_FAILED" -gt 0 ] && KEEP=1
finish
