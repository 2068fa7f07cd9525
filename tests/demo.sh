#!/bin/sh
# make demo: the coded tally protocol end to end on real 2024 data.
# Keys, a printed card, reports typed by KPPS officers (with their
# usual mistakes), verification against the national TPS registry, and
# every complete row of the real presidential results verified in bulk.
# (When the gateway exists, the demo becomes the simulated election.)
set -u
B=${B:-build}
SHARED=${SHARED:-../shared/data}
CTL=$B/tallyctl
RUN=${DEMO_DIR:-$(mktemp -d /tmp/tallydemo.XXXXXX)}
mkdir -p "$RUN"
DESA=$SHARED/desa_tps_2024.csv
PIL=$SHARED/pilpres2024_tps.csv

for f in "$DESA" "$PIL"; do
	if [ ! -r "$f" ]; then
		echo "demo: $f is missing: the demo reads the shared 2024 data" \
		    "from ../shared/data (set SHARED=DIR to point elsewhere)" >&2
		exit 1
	fi
done

say() { printf '\n== %s\n' "$*"; }
show() { printf '   $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/     /'; }

say "1. Keys (libsodium): a root key, and the key of one province"
show $CTL keygen -o "$RUN/root.key"
show $CTL keyderive --root "$RUN/root.key" --province 34 -o "$RUN/prov34.key"
ls -l "$RUN/root.key" "$RUN/prov34.key" | awk '{print "     " $1, $NF}'

say "2. The TPS registry: every TPS in Indonesia, DPT from the results"
show $CTL import --registry "$RUN/registry.db" --desa "$DESA" --dpt "$PIL"

# A real TPS of DI Yogyakarta with a complete, consistent row.
ROW=$(awk -F, 'NR > 1 && $2 == 34 && $25 + 0 == 1 { print; exit }' "$PIL")
TPS=$(echo "$ROW" | cut -d, -f1)
DESA_NAME=$(echo "$ROW" | cut -d, -f9)
eval "$(echo "$ROW" | awk -F, '{ printf "P1=%s P2=%s P3=%s PEM=%s SAH=%s TS=%s\n", $11, $12, $13, $20, $21, $22 }')"
K="--key $RUN/prov34.key"

say "3. The sealed one-time card of TPS $TPS ($DESA_NAME), first rows"
show $CTL card $K --tps "$TPS" --rows 4
$CTL card $K --tps "$TPS" --html >"$RUN/card-$TPS.html"
echo "     printable card: $RUN/card-$TPS.html"

say "4. The form for a presidential report at this TPS"
show $CTL form --tps "$TPS" --contest PPWP

C1=$($CTL card $K --tps "$TPS" --rows 1 | awk 'END { print $2 }')
C2=$($CTL card $K --tps "$TPS" --rows 2 | awk 'END { print $2 }')
C3=$($CTL card $K --tps "$TPS" --rows 3 | awk 'END { print $2 }')
MSG1="1*$TPS*1*$PEM*$P1*$P2*$P3*$SAH*$TS*$C1"
say "5. The officer types the real numbers on a basic phone (card row 1)"
echo "$MSG1" >"$RUN/night.txt"
echo "1*$TPS*1*$PEM*$P1*$P2*$P3*$SAH*$TS*$C1" >>"$RUN/night.txt"
echo "1*$TPS*2*$PEM*$P1*$P2*$P3*$SAH*$TS*$(echo "$C2" | cut -c1-7)0" >>"$RUN/night.txt"
echo "1*$TPS*2*$PEM*$P1*$P2*$SAH*$TS*$C2" >>"$RUN/night.txt"
echo "1*$TPS*2*$PEM*$P1*$((P2 + 10))*$P3*$SAH*$TS*$C2" >>"$RUN/night.txt"
echo "1*$TPS*3*$PEM*$P1*$P2*$P3*$SAH*$TS*$C3" >>"$RUN/night.txt"
echo "5*3171011001001*4*0*1*1*1*1*1*1*12345678" >>"$RUN/night.txt"
cat <<TXT
     the messages of the night, in order:
       a. the report                         b. the same SMS sent again
       c. a mistyped code                    d. a value left out
       e. a typo in pair 02 (flagged)        f. the correction, row 3
       g. DPRDK at a Jakarta TPS (no DPRDK there)
TXT
$CTL verify $K --registry "$RUN/registry.db" --batch "$RUN/night.txt" \
    2>/dev/null | awk '{ printf "     %c. %s\n", 96 + NR, $0 }'
R=$($CTL receipt $K "$MSG1")
echo "     receipt of report a, for the paper form: $R"

say "6. Every complete row of the real 2024 presidential results"
echo "     (DIY, NTT, Kaltara, Gorontalo, Maluku Utara, Papua Barat Daya)"
echo "     as a PPWP report with its content MAC, verified with the root key"
T0=$(date +%s.%N)
awk -F, 'NR > 1 && $11 != "" && $12 != "" && $13 != "" && $20 != "" &&
    $21 != "" && $22 != "" && $14 != "" {
	printf "PPWP*%s*1*%s*%s*%s*%s*%s*%s\n", $1, $20, $11, $12, $13, $21, $22
}' "$PIL" >"$RUN/all.txt"
$CTL mac --key "$RUN/root.key" --batch "$RUN/all.txt" 2>/dev/null |
    awk '/^REJECTED/ { print "PPWP 0 0 0 0 0 0 0 0 x"; next } { print }' \
    >"$RUN/all.signed"
$CTL verify --key "$RUN/root.key" --registry "$RUN/registry.db" \
    --batch "$RUN/all.signed" >"$RUN/all.verdicts" 2>"$RUN/all.summary"
T1=$(date +%s.%N)
awk -v t0="$T0" -v t1="$T1" '
	{ v[$1]++; n++ }
	/SUM: / { f["SUM  (pairs do not add up to SAH)"]++ }
	/TOTAL: / { f["TOTAL (SAH + TIDAK_SAH differs from PEMILIH)"]++ }
	/DPT: / { f["DPT  (more voters than ballots)"]++ }
	/over 999/ { f["a value over 999 (REJECTED)"]++ }
	END {
		printf "     %d reports in %.1f s:\n", n, t1 - t0
		printf "       OK        %6d\n", v["OK"]
		printf "       FLAGGED   %6d   accepted, transmitted as typed, and marked\n", v["FLAGGED"]
		printf "       REJECTED  %6d\n", v["REJECTED"]
		for (k in f) printf "         %6d  %s\n", f[k], k
	}' "$RUN/all.verdicts"
echo "     examples of flagged reports:"
grep -m 3 '^FLAGGED' "$RUN/all.verdicts" | cut -c1-150 | sed 's/^/       /'

say "Summary"
echo "     every message got exactly one verdict; files are in $RUN"
