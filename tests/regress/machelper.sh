#!/bin/sh
# The officer's MAC helper (gateway/ctl/mac-helper.html) in a real
# browser: headless chromium loads the page with its inputs after '#'
# (the key as `tallyctl card --helper' prints it, the report field by
# field or as typed text), runs it and dumps the DOM. The code and the
# SMS it shows must be the ones `tallyctl mac' computes with libsodium,
# and `tallyctl verify' must accept the SMS; for reports of each kind
# (PPWP, DPR party page and summary page, DPD, an Aceh DPRDK page 0),
# under different keys and TPS. A mistyped key group is named. The page
# names no network resource and works with every connection refused.
# TAP.

. tests/regress/lib.sh

BB=$(cd "$B" 2>/dev/null && pwd)
CTL=$BB/tallyctl
PAGE=$(pwd)/gateway/ctl/mac-helper.html
D=$(mktemp -d "${TMPDIR:-/tmp}/machelper.XXXXXX") || exit 1
cleanup() {
	t_cleanup
	rm -rf "$D"
}
t_trap cleanup

if ! command -v chromium >/dev/null 2>&1; then
	t_fail "chromium is installed (make deps)"
	finish
	exit 1
fi

# The check-vector root key, and province 65's key derived from it.
printf 'root 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n' >"$D/root.key"
chmod 600 "$D/root.key"
$CTL keyderive --root "$D/root.key" --province 65 -o "$D/p65.key"

# helperkey KEYFILE TPS: the 88 digits of the card's helper line.
helperkey() {
	$CTL card --key "$1" --tps "$2" --rows 1 --helper |
	    sed -n 's/^helper //p' | tr -d ' '
}

# load NAME HASH [chromium options...]: the page's DOM after it ran, in
# $D/NAME.html. Chromium runs in a group of its own, tracked, so that
# cleanup ends whatever it leaves.
load() {
	l_n=$1
	l_h=$2
	shift 2
	HOME=$D t_bg timeout 60 chromium --headless --no-sandbox \
	    --disable-gpu --no-first-run --disable-extensions \
	    --disable-background-networking --disable-sync \
	    --user-data-dir="$D/profile-$l_n" --virtual-time-budget=3000 \
	    "$@" --dump-dom "file://$PAGE#$l_h" \
	    >"$D/$l_n.html" 2>>"$D/chromium.log"
	wait $!
}

# shown NAME ID: the text of the element with that id.
shown() {
	sed -n "s/.*id=\"$2\"[^>]*>\([^<]*\)<.*/\1/p" "$D/$1.html" | head -1
}

# check NAME KEYFILE TEXT: the page's code and SMS against tallyctl.
check() {
	c_want=$($CTL mac --key "$2" "$3" | awk '{ print $NF }')
	expect_match "$1: tallyctl mac gives a code" "$c_want" '^[0-9]{8}$'
	expect "$1: the code is tallyctl mac's" "$(shown "$1" kode)" "$c_want"
	c_sms=$(shown "$1" sms)
	expect_match "$1: tallyctl verify accepts the SMS shown" \
	    "$($CTL verify --key "$2" "$c_sms")" '^OK '
	expect "$1: the SMS ends with the code" "${c_sms##*\*}" "$c_want"
}

K32=$(helperkey "$D/root.key" 3201012001001)
K65=$(helperkey "$D/p65.key" 6501011001001)
K34=$(helperkey "$D/root.key" 3401012001001)
K11=$(helperkey "$D/root.key" 1101012001001)
expect_match "the helper key is 88 digits" "$K32" '^[0-9]{88}$'

# PPWP, field by field: the protocol's check vector.
load ppwp "kunci=$K32&kontes=1&tps=3201012001001&seq=1&v=255,120,95,36,251,4"
expect "ppwp: the code is the check vector" "$(shown ppwp kode)" 43058167
check ppwp "$D/root.key" '1*3201012001001*1*255*120*95*36*251*4'
expect "ppwp: card row 1 shown for the key check" "$(shown ppwp baris1)" \
    "$($CTL card --key "$D/root.key" --tps 3201012001001 --rows 1 | cut -d' ' -f2)"

# DPR party page 2 (GERINDRA), field by field, under a province key.
load dprp "kunci=$K65&kontes=2&tps=6501011001001&seq=4&hal=2&n=3&v=12,30,11,7"
check dprp "$D/p65.key" '2*6501011001001*4*2*12*30*11*7'
expect "dprp: the SMS" "$(shown dprp sms)" \
    "2*6501011001001*4*2*12*30*11*7*$($CTL mac --key "$D/p65.key" '2*6501011001001*4*2*12*30*11*7' | awk '{ print $NF }')"
expect "dprp: card row 1 of TPS 6501011001001" "$(shown dprp baris1)" 20033158

# DPR summary page, pasted as typed (#, leading zeros, O for 0, a code).
DPR0='2#6501011001001#03#0#265#10#60#30#25#20#2#3#15#1#4#1#12#2#18#5#6#8#3#225#4O#12345678'
load dpr0 "kunci=$K65&teks=$(printf '%s' "$DPR0" | sed 's/#/%23/g')"
check dpr0 "$D/p65.key" "$DPR0"

# DPD, 26 values for Yogyakarta in the sample.
DPD='3*3401012001001*2*220*1*2*3*4*5*6*7*8*9*10*11*12*13*14*15*16*17*18*19*20*0*0*0*210*10'
expect_match "dpd: the form has 26 values" \
    "$($CTL form --tps 3401012001001 --contest DPD | head -1)" ': 26 values$'
load dpd "kunci=$K34&kontes=3&tps=3401012001001&seq=2&n=23&v=$(echo "$DPD" | cut -d'*' -f4- | tr '*' ,)"
check dpd "$D/root.key" "$DPD"

# Aceh DPRDK summary: 24 parties with the local ones, 27 boxes.
DPRDK='5*1101012001001*7*0*290*1*2*3*4*5*6*7*8*9*10*11*12*13*14*15*16*17*18*19*20*21*22*23*4*280*10'
load dprdk "kunci=$K11&kontes=5&tps=1101012001001&seq=7&hal=0&v=$(echo "$DPRDK" | cut -d'*' -f5- | tr '*' ,)"
check dprdk "$D/root.key" "$DPRDK"
expect "dprdk: the boxes are tallyctl form's" \
    "$(grep -o 'data-name="[^"]*"' "$D/dprdk.html" | sed 's/data-name="//; s/"$//')" \
    "$($CTL form --tps 1101012001001 --contest DPRDK | sed -n 's/^  //p')"

# The keys differ, and so do the codes of one text under two keys.
expect "four different helper keys" \
    "$(printf '%s\n' "$K32" "$K65" "$K34" "$K11" | sort -u | wc -l)" 4

# A mistyped group: named, and no code shown.
d=$(echo "$K65" | cut -c26)
BAD=$(echo "$K65" | sed "s/^\(.\{25\}\)./\1$(((d + 1) % 10))/")
load badkey "kunci=$BAD&kontes=2&tps=6501011001001&seq=4&hal=2&n=3&v=12,30,11,7"
expect_match "a mistyped digit in group 3 is named" "$(shown badkey pesan)" \
    '^Kotak kunci 3 salah ketik'
expect "no code with a mistyped key" "$(shown badkey kode)" ""

# Nothing from the network: no URL in the page, a policy that allows
# no connection, and the page works with every connection refused.
expect "the page names no http(s) URL" \
    "$(grep -Eic '(https?|ftp|wss?):' "$PAGE")" 0
expect "the page has no src attribute" "$(grep -Eic '[[:space:]]src=' "$PAGE")" 0
expect_match "its policy allows no connection" "$(cat "$PAGE")" \
    "Content-Security-Policy\" content=\"default-src 'none'"
load offline "kunci=$K32&kontes=1&tps=3201012001001&seq=1&v=255,120,95,36,251,4" \
    --proxy-server=127.0.0.1:9 --proxy-bypass-list='<-loopback>'
expect "offline: the same code with the network refused" \
    "$(shown offline kode)" 43058167

finish
