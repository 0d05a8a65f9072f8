#!/bin/sh
# `sipkit explain`: one code, two side by side, --list, --json, and exit
# statuses for bad input. Needs only POSIX sh, awk, grep, sed, tr, wc.
# $SIPKIT is the binary; $SK_TESTDATA_DIR holds iana/sip-response-codes.tsv.

: "${SIPKIT:?set SIPKIT to the sipkit binary}"
: "${SK_TESTDATA_DIR:?set SK_TESTDATA_DIR to the shared test data}"
REGISTRY="$SK_TESTDATA_DIR/iana/sip-response-codes.tsv"
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
unset COLUMNS

pass=0
failed=0
ok() { pass=$((pass + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
    desc=$1
    shift
    if "$@"; then ok; else bad "$desc"; fi
}

# Every line of a file fits in N columns (the section sign counts as one).
fits() {
    sed 's/§/S/g' "$1" | awk -v max="$2" 'length($0) > max { print "  too long: " $0; n++ }
        END { exit n > 0 }'
}

# The wrapped text of a file contains TEXT (lines joined, indentation and
# column separators squeezed to single spaces).
has_text() {
    tr '\n' ' ' <"$1" | sed 's/  *| / /g; s/  */ /g' | grep -q -F -e "$2"
}

# A small JSON checker: strings and escapes, literals, bracket nesting,
# commas and colons in the right places. Enough to catch broken output
# without depending on python or jq.
json_ok() {
    if tr -d '\n' <"$1" | LC_ALL=C grep -q '[[:cntrl:]]'; then
        echo "  raw control character in JSON"
        return 1
    fi
    LC_ALL=C awk '
    function fail(msg) { print "  bad JSON at line " NR ": " msg; bad = 1; exit 1 }
    function value_start() { if (prev != "" && prev != "O" && prev != ":" && prev != ",")
                                 fail("missing comma before value") }
    function end_literal() {
        if (lit == "") return
        if (lit !~ /^(true|false|null|-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)$/)
            fail("bad literal " lit)
        lit = ""; prev = "V"
    }
    BEGIN { depth = 0; instr = 0; prev = ""; lit = ""; top = 0 }
    {
        line = $0
        for (i = 1; i <= length(line); i++) {
            c = substr(line, i, 1)
            if (instr) {
                if (c == "\\") {
                    e = substr(line, i + 1, 1)
                    if (e == "u") {
                        if (substr(line, i + 2, 4) !~ /^[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]$/)
                            fail("bad \\u escape")
                        i += 5
                    } else if (index("\"\\/bfnrt", e) == 0) {
                        fail("bad escape \\" e)
                    } else {
                        i++
                    }
                } else if (c == "\"") {
                    instr = 0; prev = "V"
                }
                continue
            }
            if (c ~ /[A-Za-z0-9.+-]/) {
                if (lit == "") value_start()
                lit = lit c
                continue
            }
            end_literal()
            if (c == " " || c == "\t" || c == "\r") continue
            if (c == "\"") { value_start(); instr = 1; continue }
            if (c == "{" || c == "[") {
                value_start()
                if (depth == 0) top++
                stack[++depth] = c; prev = "O"; continue
            }
            if (c == "}" || c == "]") {
                if (depth == 0) fail("unbalanced " c)
                if ((c == "}") != (stack[depth] == "{")) fail("mismatched " c)
                if (prev != "V" && prev != "O") fail("trailing comma or colon before " c)
                depth--; prev = "V"; continue
            }
            if (c == ",") { if (prev != "V") fail("misplaced comma"); prev = ","; continue }
            if (c == ":") { if (prev != "V") fail("misplaced colon"); prev = ":"; continue }
            fail("unexpected character " c)
        }
        if (instr) fail("newline inside a string")
        end_literal()
    }
    END {
        if (bad) exit 1
        if (depth != 0) { print "  unclosed bracket"; exit 1 }
        if (top != 1) { print "  expected exactly one top-level value"; exit 1 }
    }' "$1"
}

# ---- every registry code explains, with its phrase, within 80 columns ----
rows=0
while IFS="	" read -r code phrase class _ref; do
    [ "$code" = code ] && continue
    rows=$((rows + 1))
    out="$TMP/one.$code"
    if ! "$SIPKIT" explain --width 80 "$code" >"$out" 2>"$TMP/err"; then
        bad "explain $code exited non-zero"
        continue
    fi
    check "explain $code: first line is '$code $phrase'" \
        test "$(sed -n 1p "$out")" = "$code $phrase"
    check "explain $code: class $class" grep -q "^  Class       $class " "$out"
    check "explain $code: sections" grep -q '^How to fix$' "$out"
    check "explain $code: fits 80 columns" fits "$out" 80
    check "explain $code: nothing on stderr" test ! -s "$TMP/err"
done <"$REGISTRY"
check "registry has 75 rows" test "$rows" -eq 75

# ---- one code in detail ----
"$SIPKIT" explain --width 80 401 >"$TMP/401"
check "401 names WWW-Authenticate" grep -q 'WWW-Authenticate' "$TMP/401"
check "401 cites RFC 3261" grep -q '^  Defined in  RFC 3261 §21.4.2' "$TMP/401"
check "401 has method notes" grep -q '^Method notes$' "$TMP/401"
check "401 has a REGISTER note" grep -q '^  REGISTER    ' "$TMP/401"
"$SIPKIT" explain --width 80 423 >"$TMP/423"
check "423 names Min-Expires" grep -q 'Min-Expires' "$TMP/423"
check "423 has a SUBSCRIBE note" grep -q '^  SUBSCRIBE   ' "$TMP/423"
"$SIPKIT" explain --width 80 481 >"$TMP/481"
check "481 has BYE and NOTIFY notes" grep -q '^  NOTIFY      ' "$TMP/481"
"$SIPKIT" explain --width 100 200 >"$TMP/200w"
check "200 fits 100 columns" fits "$TMP/200w" 100
check "200 at 100 columns uses the width" \
    sh -c "sed 's/§/S/g' '$TMP/200w' | awk 'length(\$0) > 90 { n++ } END { exit n == 0 }'"
"$SIPKIT" explain 202 >"$TMP/202"
check "202 shows the wire phrase" grep -q '^  On the wire Accepted$' "$TMP/202"
COLUMNS=60 "$SIPKIT" explain 488 >"$TMP/488"
check "COLUMNS=60 is honoured" fits "$TMP/488" 60

# ---- unregistered code in a valid class ----
"$SIPKIT" explain 499 >"$TMP/499"
check "499 exits 0" test $? -eq 0
check "499 is marked unregistered" grep -q '^499 (not registered with IANA)$' "$TMP/499"
check "499 is explained by class" grep -q '^  Class       4xx Client Failure$' "$TMP/499"
"$SIPKIT" explain 150 >/dev/null
check "150 exits 0" test $? -eq 0

# ---- two codes side by side ----
"$SIPKIT" explain --width 80 401 407 >"$TMP/pair"
check "pair exits 0" test $? -eq 0
check "pair header shows both codes" \
    grep -q '^401 Unauthorized  *| 407 Proxy Authentication Required$' "$TMP/pair"
check "pair has class row" grep -q '^4xx Client Failure  *| 4xx Client Failure$' "$TMP/pair"
for section in Class Meaning 'When you see it' 'How to fix' 'Key differences' 'When to use which'; do
    check "pair has section $section" grep -q "^== $section =" "$TMP/pair"
done
check "pair fits 80 columns" fits "$TMP/pair" 80
"$SIPKIT" explain 100 608 >"$TMP/gen"
"$SIPKIT" explain 486 600 >"$TMP/busy"
"$SIPKIT" explain 404 499 >"$TMP/mixed"
check "unknown pair gets generated guidance" \
    grep -q '^== When to use which (from the catalog) =' "$TMP/gen"
check "generated differences contrast classes" \
    has_text "$TMP/gen" '1xx is provisional and the transaction goes on'
check "generated guidance quotes both summaries" \
    has_text "$TMP/gen" '608 Rejected: an intermediary (call analytics) rejected the call.'
check "pair names who sends each" \
    has_text "$TMP/pair" '401 usually comes from: UAS, registrar; 407 from: proxy'
check "486/600 explains forking" has_text "$TMP/busy" 'all forked branches stop'
check "registered vs unregistered" has_text "$TMP/mixed" '499 is not registered with IANA'
check "499 says the registry does not have it" \
    has_text "$TMP/499" 'is not in the IANA SIP response-code registry'
check "pair uses the hand-written note" has_text "$TMP/pair" 'Same digest mechanism, different challenger.'

# ---- --list ----
"$SIPKIT" explain --list >"$TMP/list"
check "--list exits 0" test $? -eq 0
check "--list shows 75 codes" test "$(grep -c '^  [1-6][0-9][0-9]  ' "$TMP/list")" -eq 75
check "--list shows 6 classes" test "$(grep -c '^[1-6]xx ' "$TMP/list")" -eq 6
check "--list footer" grep -q '^75 registered codes\.' "$TMP/list"
check "--list fits 80 columns" fits "$TMP/list" 80
"$SIPKIT" explain --list --width 120 >"$TMP/listw"
check "--list --width 120 is a table" \
    grep -q '^  200  OK                               the request succeeded$' "$TMP/listw"

# ---- JSON ----
"$SIPKIT" explain --json 401 >"$TMP/j1"
check "json one: valid" json_ok "$TMP/j1"
check "json one: code" grep -q '^  "code": 401,$' "$TMP/j1"
check "json one: phrase" grep -q '^  "phrase": "Unauthorized",$' "$TMP/j1"
check "json one: class" grep -q '^  "class": "4xx",$' "$TMP/j1"
check "json one: registered" grep -q '^  "registered": true,$' "$TMP/j1"
check "json one: notes" grep -q '"method": "REGISTER"' "$TMP/j1"
"$SIPKIT" explain --json 505 >"$TMP/j505"
check "json escapes quotes" grep -q '(\\"SIP/1.0\\", \\"SIP/2.1\\", lower case)' "$TMP/j505"
check "json 505: valid" json_ok "$TMP/j505"
"$SIPKIT" explain --json 499 >"$TMP/j499"
check "json 499: valid" json_ok "$TMP/j499"
check "json 499: unregistered" grep -q '^  "registered": false,$' "$TMP/j499"
check "json 499: no rfc" grep -q '^  "rfc": null,$' "$TMP/j499"
"$SIPKIT" explain --json 401 407 >"$TMP/j2"
check "json two: valid" json_ok "$TMP/j2"
check "json two: both codes" test "$(grep -c '^      "code": 40[17],$' "$TMP/j2")" -eq 2
check "json two: differences" grep -q '^  "differences": \[$' "$TMP/j2"
check "json two: hand-written" grep -q '^  "guidance_source": "hand-written"$' "$TMP/j2"
"$SIPKIT" explain --json 100 608 >"$TMP/j2g"
check "json two: generated" grep -q '^  "guidance_source": "generated"$' "$TMP/j2g"
"$SIPKIT" explain --json --list >"$TMP/jl"
check "json list: valid" json_ok "$TMP/jl"
check "json list: count" grep -q '^  "count": 75,$' "$TMP/jl"
check "json list: 75 objects" test "$(grep -c '^      "code": [1-6][0-9][0-9],$' "$TMP/jl")" -eq 75
# The checker itself must reject broken JSON.
printf '{"a": [1, 2,]}\n' >"$TMP/broken1"
printf '{"a": "x\\q"}\n' >"$TMP/broken2"
printf '{"a": 1 "b": 2}\n' >"$TMP/broken3"
printf '{"a": [1}\n' >"$TMP/broken4"
for f in broken1 broken2 broken3 broken4; do
    if json_ok "$TMP/$f" >/dev/null; then bad "checker accepted $f"; else ok; fi
done

# ---- bad input: message on stderr, nothing on stdout, exit 2 ----
expect_usage() {
    desc=$1
    want=$2
    shift 2
    "$SIPKIT" explain "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    check "$desc: exit 2 (got $rc)" test "$rc" -eq 2
    check "$desc: stdout empty" test ! -s "$TMP/out"
    check "$desc: stderr says '$want'" grep -q -e "$want" "$TMP/err"
}
expect_usage "abc" "'abc' is not a number" abc
expect_usage "99" "'99' is not a three-digit response code" 99
expect_usage "700" "'700' is out of range: SIP response codes run from 100 to 699" 700
expect_usage "099" "'099' is out of range" 099
expect_usage "4011" "'4011' is not a three-digit response code" 4011
expect_usage "empty" "empty argument" ""
expect_usage "40a" "'40a' is not a number" 40a
expect_usage "three codes" "too many codes" 401 407 486
expect_usage "no code" "missing CODE"
expect_usage "--list with a code" "--list takes no codes" --list 401
expect_usage "unknown option" "unknown option '--bogus'" --bogus 401
expect_usage "bad width" "--width needs a number" --width 5 401
expect_usage "second code bad" "'7000' is not a three-digit" 401 7000

"$SIPKIT" explain --help >"$TMP/help"
check "--help exits 0" test $? -eq 0
check "--help shows usage" grep -q '^usage: sipkit explain' "$TMP/help"
"$SIPKIT" --help >"$TMP/top"
check "top-level help lists explain" grep -q '^  explain ' "$TMP/top"

echo "explain.sh: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
