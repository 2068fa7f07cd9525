#!/bin/sh
# tallyctl's command contract (docs/tallyctl.md), end to end.
. tests/regress/lib.sh
CTL=$B/tallyctl
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT

# The protocol's check-vector root key: bytes 0x00..0x1f.
printf 'root 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n' >"$D/root.key"
chmod 600 "$D/root.key"
K="--key $D/root.key"
EX='1*3201012001001*01*255*120*95*36*251*4'

# keygen
$CTL keygen -o "$D/new.key"
expect "keygen writes mode 0600" "$(stat -c %a "$D/new.key")" 600
expect_match "keygen writes a root key line" "$(cat "$D/new.key")" '^root [0-9a-f]{64}$'
expect_rc "keygen never overwrites" 1 $CTL keygen -o "$D/new.key"
expect_rc "keygen without -o is a usage error" 2 $CTL keygen

# mac, receipt, card
expect "mac prints canonical text and MAC" "$($CTL mac $K "$EX")" \
    "PPWP 3201012001001 1 255 120 95 36 251 4 43058167"
expect "mac ignores a code already there" "$($CTL mac $K "$EX*11111111")" \
    "PPWP 3201012001001 1 255 120 95 36 251 4 43058167"
expect "mac takes several words" "$($CTL mac $K PPWP 3201012001001 1 255 120 95 36 251 4)" \
    "PPWP 3201012001001 1 255 120 95 36 251 4 43058167"
expect_rc "mac refuses a text with a value missing" 1 $CTL mac $K '1*3201012001001*1*255*120*95*36*251'
expect "receipt" "$($CTL receipt $K "$EX*43058167")" 58331817
expect "receipt of the report without its code" "$($CTL receipt $K "$EX")" 58331817
expect_rc "no receipt for a wrong code" 1 $CTL receipt $K "$EX*43058168"
expect_rc "no receipt for a report missing a value" 1 $CTL receipt $K '1*3201012001001*1*255*120*95*36*251*43058167'
expect "mac --batch: an empty line" "$(printf '\n' | $CTL mac $K --batch -)" "REJECTED empty message"
expect_match "verify: a code but no values" "$($CTL verify $K '1*3201012001001*1*12345678')" \
    '^REJECTED PPWP needs 6 values .*got 0$'
expect_match "verify: province 00 is malformed" "$($CTL verify $K '1 0000000000001 1 1 1 0 0 1 0 12345678')" \
    "^REJECTED TPS code '0000000000001' is not 13 digits"
expect_match "verify: page 1000 is named as typed" "$($CTL verify $K '2 3201012001001 1 1000 1 1 12345678')" \
    '^REJECTED page 1000: no such party'
expect "card row 1" "$($CTL card $K --tps 3201012001001 --rows 1)" "1 99305909"
expect "card has 100 rows by default" "$($CTL card $K --tps 3201012001001 | wc -l)" 100
expect "card row 100" "$($CTL card $K --tps 3201012001001 | tail -1)" "100 04984340"
expect_match "card --html is Indonesian" "$($CTL card $K --tps 3201012001001 --html --rows 5)" 'KARTU KODE SEKALI PAKAI'
expect "card --helper: the key line, then the rows" \
    "$($CTL card $K --tps 3201012001001 --rows 1 --helper)" \
    "helper 33181700432 00576261585 11083003264 04203268064 21447418219 15811813551 07166367822 41921380854
1 99305909"
expect_match "card --html --helper prints the key groups" \
    "$($CTL card $K --tps 3201012001001 --html --rows 1 --helper)" \
    '<td class="n">8</td><td>41921 380854</td>'
expect "card --html without --helper has no key" \
    "$($CTL card $K --tps 3201012001001 --html --rows 1 | grep -c 'KUNCI')" 0
expect_rc "card without --tps is a usage error" 2 $CTL card $K
expect_rc "card with a 12-digit TPS is a usage error" 2 $CTL card $K --tps 320101200100

# keyderive and province keys
$CTL keyderive --root "$D/root.key" --province 32 -o "$D/p32.key"
expect "keyderive writes the province key" "$(cat "$D/p32.key")" \
    "province 32 86038f28db974f499465bf052002dad36748e48598157d596ca80f28cdbda311"
expect "keyderive mode 0600" "$(stat -c %a "$D/p32.key")" 600
expect "province key gives the same card" \
    "$($CTL card --key "$D/p32.key" --tps 3201012001001 --rows 1)" "1 99305909"
expect_rc "province key does not cover another province" 1 \
    $CTL card --key "$D/p32.key" --tps 3401012001001
expect_rc "keyderive refuses a province key as root" 1 \
    $CTL keyderive --root "$D/p32.key" --province 33 -o "$D/p33.key"
expect_rc "keyderive --province 100 is a usage error" 2 \
    $CTL keyderive --root "$D/root.key" --province 100 -o "$D/x.key"

# key file permissions
cp "$D/root.key" "$D/open.key"
chmod 644 "$D/open.key"
expect_rc "a key readable by others is refused" 1 $CTL mac --key "$D/open.key" "$EX"
expect_match "and the refusal says how to fix it" \
    "$($CTL mac --key "$D/open.key" "$EX" 2>&1)" 'chmod 600'
chmod 640 "$D/open.key"
expect_rc "a key readable by the group is refused" 1 $CTL card --key "$D/open.key" --tps 3201012001001
printf 'root 00\n' >"$D/bad.key"
chmod 600 "$D/bad.key"
expect_rc "a malformed key file is refused" 1 $CTL mac --key "$D/bad.key" "$EX"

# verify
out=$($CTL verify $K "$EX*43058167")
expect "verify OK (MAC)" "$out" "OK PPWP 3201012001001 1 255 120 95 36 251 4"
expect_rc "verify OK exits 0" 0 $CTL verify $K "$EX*43058167"
expect "verify OK (card row 1)" "$($CTL verify $K "$EX*99305909")" \
    "OK PPWP 3201012001001 1 255 120 95 36 251 4"
FL=$($CTL mac $K '1*3201012001001*2*255*120*95*35*251*4' | awk '{print $NF}')
out=$($CTL verify $K "1*3201012001001*2*255*120*95*35*251*4*$FL")
expect_match "verify FLAGGED names the rule" "$out" '^FLAGGED PPWP 3201012001001 2 255 120 95 35 251 4 \[SUM: '
expect_rc "verify FLAGGED exits 0" 0 $CTL verify $K "1*3201012001001*2*255*120*95*35*251*4*$FL"
out=$($CTL verify $K "$EX*43058168")
expect_match "verify REJECTED bad code" "$out" '^REJECTED code 43058168 matches neither'
expect_rc "verify REJECTED exits 1" 1 $CTL verify $K "$EX*43058168"
expect_match "verify REJECTED count" "$($CTL verify $K '1*3201012001001*1*255*120*95*36*251*43058167')" \
    '^REJECTED PPWP needs 6 values \(PEMILIH, 3 choices, SAH, TIDAK_SAH\), got 5$'
expect_match "verify REJECTED value over 999" "$($CTL verify $K '1*3201012001001*1*1255*120*95*36*251*4*43058167')" \
    "^REJECTED token 4 '1255' is over 999"
expect_match "verify REJECTED unknown contest" "$($CTL verify $K 'PILPRES 3201012001001 1 1 1 1 1 1 1 12345678')" \
    "^REJECTED unknown contest 'PILPRES'"
expect_match "verify REJECTED malformed TPS" "$($CTL verify $K '1 320101200101 1 1 1 1 1 1 1 12345678')" \
    "^REJECTED TPS code '320101200101' is not 13 digits"
expect_match "verify REJECTED contest not held (no DPRDK in Jakarta)" \
    "$($CTL verify $K '5 3171011001001 1 0 1 1 1 1 1 1 12345678')" '^REJECTED DPRDK is not held at TPS 3171011001001'
expect_match "verify REJECTED unknown page" "$($CTL verify $K '2 3201012001001 1 77 1 1 12345678')" \
    '^REJECTED page 77: no such party'
expect_rc "verify without a key is a usage error" 2 $CTL verify "$EX*43058167"
expect_rc "verify without text is a usage error" 2 $CTL verify $K

# batch: earlier lines are the history of later ones
C2=$($CTL mac $K '1*3201012001001*3*255*121*94*36*251*4' | awk '{print $NF}')
printf '%s\n' "$EX*43058167" "$EX*43058167" "1 3201012001001 1 255 121 94 36 251 4 99305909" \
    "1*3201012001001*3*255*121*94*36*251*4*$C2" >"$D/batch"
out=$($CTL verify $K --batch "$D/batch" 2>/dev/null | cut -c1-12 | tr '\n' '|')
expect "batch: OK, DUPLICATE, used number, correction" "$out" \
    "OK PPWP 3201|DUPLICATE PP|REJECTED mes|OK PPWP 3201|"
expect_match "batch: the correction names what it corrects" \
    "$($CTL verify $K --batch "$D/batch" 2>/dev/null | tail -1)" '\(corrects SEQ 1\)$'
expect_rc "batch: exits 1 when a line is rejected" 1 $CTL verify $K --batch "$D/batch"
expect_match "batch: summary on stderr" "$($CTL verify $K --batch "$D/batch" 2>&1 >/dev/null)" \
    '2 OK, 0 FLAGGED, 1 DUPLICATE, 1 REJECTED'

# batch: a line is read whole, whatever its length; one longer than a
# gateway keeps (4,095 bytes) is one REJECTED line, the report hidden
# after its 4,095th byte unread
awk -v r="$EX*43058167" 'BEGIN { s = sprintf("%5000s", ""); print r;
    print substr(s, 1, 5000 - length(r)) r; print r }' >"$D/long"
expect "batch: the long line is 5,000 bytes" "$(sed -n 2p "$D/long" | tr -d '\n' | wc -c)" 5000
out=$($CTL verify $K --batch "$D/long" 2>/dev/null)
expect "verify --batch: one verdict per line, long line rejected" "$out" \
    "OK PPWP 3201012001001 1 255 120 95 36 251 4
REJECTED message too long
DUPLICATE PPWP 3201012001001 1 255 120 95 36 251 4"
expect "verify --batch: as many output lines as input lines" \
    "$($CTL verify $K --batch - <"$D/long" 2>/dev/null | wc -l)" "$(wc -l <"$D/long")"
out=$($CTL mac $K --batch "$D/long")
expect "mac --batch: one line per line, long line rejected" "$out" \
    "PPWP 3201012001001 1 255 120 95 36 251 4 43058167
REJECTED message too long
PPWP 3201012001001 1 255 120 95 36 251 4 43058167"
expect "verify: an over-long TEXT is one REJECTED line" \
    "$($CTL verify $K "$(sed -n 2p "$D/long")")" "REJECTED message too long"
expect_rc "verify: an over-long TEXT exits 1" 1 $CTL verify $K "$(sed -n 2p "$D/long")"
printf '%s\r\n' "$EX*43058167" >"$D/crlf"
expect "verify --batch: a CRLF line end is no part of the text" \
    "$($CTL verify $K --batch "$D/crlf" 2>/dev/null)" "OK PPWP 3201012001001 1 255 120 95 36 251 4"

# reply: the officer's SMS, as the gateway words it (the texts of
# reply.c's tables, written out here)
OKID="DITERIMA PPWP 3201012001001 #1: PEMILIH=255 1=120 2=95 3=36 SAH=251 TDK SAH=4. Tanda terima 58331817, tulis di C.Hasil."
expect "reply: a confirmation carries the receipt" "$($CTL reply $K "$EX*43058167")" "$OKID"
expect_rc "reply: a confirmation exits 0" 0 $CTL reply $K "$EX*43058167"
expect "reply: a bad code gets the rejection" "$($CTL reply $K "$EX*43058168")" \
    "DITOLAK PPWP #1: kode salah. Pakai kode kartu baris 1 (= SEQ) atau MAC, periksa angkanya, kirim lagi."
expect_rc "reply: a rejection exits 1" 1 $CTL reply $K "$EX*43058168"
expect "reply --lang en" "$($CTL reply $K --lang en "$EX*43058167")" \
    "RECEIVED PPWP 3201012001001 #1: PEMILIH=255 1=120 2=95 3=36 SAH=251 TIDAK SAH=4. Receipt 58331817, write it on C.Hasil."
expect "reply: BANTU" "$($CTL reply $K --lang en bantu)" \
    "Format: PPWP <TPS 13 digits> <SEQ> <PEMILIH> <01> <02> <03> <SAH> <TIDAK SAH> <CODE>. DPR/DPRDP/DPRDK: <PAGE> after SEQ. Check: CEK <TPS>. What CHECK means: sum = the pair/candidate/party votes do not add up to SAH; PEMILIH = SAH + TIDAK SAH is not PEMILIH; DPT = PEMILIH over DPT + 2%; page 0 = PARTAI + candidates differ from the party on page 0; number = this phone is not registered, call the PPK; old = a newer SEQ counts. A number differs from C.Hasil? Resend with a new SEQ."
# a card-coded DPD report of Jawa Barat (54 candidates): the long
# confirmation (3 SMS parts) echoes every number with its name, whole
DPD='3*3201012001001*2*380*12*7*30*0*5*18*9*3*41*6*2*15*8*11*4*1*22*10*0*3*7*5*9*14*2*6*1*0*4*8*13*2*5*3*7*1*0*9*6*2*4*11*3*5*0*1*8*2*6*3*4*1*2*7*368*12*88825093'
expect "reply: a card-coded DPD report is confirmed with every number" \
    "$($CTL reply $K "$DPD")" \
    "DITERIMA DPD 3201012001001 #2: PEMILIH=380 1=12 2=7 3=30 4=0 5=5 6=18 7=9 8=3 9=41 10=6 11=2 12=15 13=8 14=11 15=4 16=1 17=22 18=10 19=0 20=3 21=7 22=5 23=9 24=14 25=2 26=6 27=1 28=0 29=4 30=8 31=13 32=2 33=5 34=3 35=7 36=1 37=0 38=9 39=6 40=2 41=4 42=11 43=3 44=5 45=0 46=1 47=8 48=2 49=6 50=3 51=4 52=1 53=2 54=7 SAH=368 TDK SAH=12. Tanda terima 08587026. PERIKSA: PEMILIH lebih banyak dari DPT ditambah 2%. Jika angka salah, kirim ulang dgn SEQ baru."
expect_rc "reply: a long confirmation exits 0" 0 $CTL reply $K "$DPD"
expect "reply: CEK of a TPS code too short" "$($CTL reply $K 'CEK 320101')" \
    "CEK: kode TPS '320101' salah atau tidak terdaftar. Kirim CEK lalu 13 angka kode TPS, mis. CEK 3201012001001."
expect_rc "reply --lang fr is a usage error" 2 $CTL reply $K --lang fr "$EX*43058167"
{ cat "$D/long"; echo 'selamat malam'; } >"$D/replies"
out=$($CTL reply $K --batch "$D/replies")
expect "reply --batch: one reply per line, history and long line" "$out" \
    "$OKID
DITOLAK: pesan terlalu panjang. Kirim satu jenis/halaman per pesan.
SUDAH DITERIMA PPWP 3201012001001 #1: PEMILIH=255 1=120 2=95 3=36 SAH=251 TDK SAH=4. Tanda terima tetap 58331817. Tidak perlu kirim lagi.
Pesan tidak dikenali. Ketik BANTU utk format laporan, atau CEK <kode TPS> utk melihat data TPS."
expect "reply --batch: as many replies as lines" "$(printf '%s\n' "$out" | wc -l)" \
    "$(wc -l <"$D/replies")"
expect "reply: an over-long TEXT is rejected as too long" \
    "$($CTL reply $K "$(sed -n 2p "$D/long")")" \
    "DITOLAK: pesan terlalu panjang. Kirim satu jenis/halaman per pesan."

# election definitions
printf 'election "x"\npairs 3\nbogus 1\n' >"$D/bad.conf"
out=$($CTL verify $K --election "$D/bad.conf" "$EX*43058167" 2>&1)
expect_match "a bad election file names file and line" "$out" 'bad.conf:3'
expect_match "form lists what a report needs" "$($CTL form --tps 3201012001001 --contest PPWP)" '^PPWP TPS 3201012001001: 6 values$'

# registry
printf 'kode_desa,kode_prov,prov,kode_kab,kab,kode_kec,kec,desa,n_tps_reguler,ext_first,ext_last,n_tps_total\n3201012001,32,JAWA BARAT,3201,BOGOR,320101,CIBINONG,PONDOK RAJEG,3,,,3\n' >"$D/desa.csv"
expect_rc "import a small registry" 0 $CTL import --registry "$D/reg.db" --desa "$D/desa.csv"
expect "verify against the registry: known TPS" \
    "$($CTL verify $K --registry "$D/reg.db" "$EX*43058167")" "OK PPWP 3201012001001 1 255 120 95 36 251 4"
expect_match "verify against the registry: unknown TPS" \
    "$($CTL verify $K --registry "$D/reg.db" '1*3201012001004*1*1*1*0*0*1*0*12345678')" \
    '^REJECTED TPS 3201012001004 is not in the registry'
expect_rc "verify with a missing registry fails" 1 $CTL verify $K --registry "$D/none.db" "$EX*43058167"

# help
for c in keygen keyderive mac verify reply card receipt import form; do
	expect_match "$c -h says how to use it" "$($CTL $c -h)" "^usage: tallyctl $c"
done
expect_rc "unknown command" 2 $CTL frobnicate
finish
