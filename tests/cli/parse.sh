#!/bin/sh
# sipkit parse: exit statuses, the one-file summary, one line per file,
# standard input, JSON, and usage errors.
set -u
: "${SIPKIT:?path to the sipkit binary}" "${SK_TESTDATA_DIR:?shared test data}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0
check() { # check NAME CONDITION-EXIT-STATUS
    if [ "$2" -eq 0 ]; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAIL: $1"; fi
}
t=$SK_TESTDATA_DIR

out=$("$SIPKIT" parse "$t/rfc3665/2.01_sip-client-new-registration/F01_REGISTER.txt"); st=$?
check "valid file exits 0" "$st"
echo "$out" | grep -q '^valid: request REGISTER sips:ss2.biloxi.example.com$'; check "summary names method and URI" $?
echo "$out" | grep -q '^  Call-ID: '; check "summary shows Call-ID" $?
echo "$out" | grep -q '^  CSeq: 1 REGISTER$'; check "summary shows CSeq" $?

out=$("$SIPKIT" parse "$t/rfc4475/badinv01.dat"); st=$?
[ "$st" -eq 1 ]; check "invalid file exits 1" $?
[ "$out" = "invalid: Malformed Via" ]; check "invalid file names its cause ($out)" $?

out=$("$SIPKIT" parse "$t/rfc4475/badvers.dat")
[ "$out" = "invalid: Version Not Supported" ]; check "version cause ($out)" $?

out=$("$SIPKIT" parse "$t/rfc4475/esc01.dat" "$t/rfc4475/ncl.dat"); st=$?
[ "$st" -eq 1 ]; check "one invalid of two exits 1" $?
[ "$(echo "$out" | wc -l)" -eq 2 ]; check "one line per file" $?
echo "$out" | grep -q 'esc01.dat: valid: request INVITE'; check "valid line" $?
echo "$out" | grep -q 'ncl.dat: invalid: Malformed Content-Length'; check "invalid line" $?

"$SIPKIT" parse "$t/rfc4475/esc01.dat" "$t/rfc4475/wsinv.dat" >/dev/null; check "two valid files exit 0" $?

out=$("$SIPKIT" parse - < "$t/rfc4475/dblreq.dat"); st=$?
check "stdin parses" "$st"
echo "$out" | grep -q '^valid: request REGISTER'; check "stdin summary" $?

out=$("$SIPKIT" parse --json "$t/rfc4475/wsinv.dat"); st=$?
check "--json exits 0" "$st"
case "$out" in '{"file":'*'"valid":true'*'"method":"INVITE"'*'"headers":['*'}') r=0 ;; *) r=1 ;; esac
check "--json object shape" $r
echo "$out" | grep -q '"branch":"z9hG4bK9ikj8"'; check "--json typed Via branch" $?
echo "$out" | grep -q '"tag":"98asjd8"'; check "--json typed From tag" $?
out=$("$SIPKIT" parse --json "$t/rfc4475/mismatch01.dat"); st=$?
[ "$st" -eq 1 ]; check "--json invalid exits 1" $?
echo "$out" | grep -q '"valid":false,"error":"CSeq Method Mismatch","status":400'; check "--json error" $?

printf 'garbage' > "$tmp/g"
out=$("$SIPKIT" parse "$tmp/g"); [ $? -eq 1 ] && [ "$out" = "invalid: Malformed Start Line" ]
check "garbage file" $?
: > "$tmp/empty"
# RFC 3261 §7: the empty line after the header section is part of the
# message; a file without it is not one.
printf 'OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n' >"$tmp/noend"
out=$("$SIPKIT" parse "$tmp/noend"); st=$?
[ "$st" -eq 1 ] && [ "$out" = "invalid: Missing Empty Line After Headers" ]
check "header section without the empty line ($out)" $?
out=$("$SIPKIT" parse "$tmp/empty"); [ "$out" = "invalid: Empty Message" ]; check "empty file" $?

"$SIPKIT" parse >/dev/null 2>&1; [ $? -eq 2 ]; check "no file is a usage error" $?
"$SIPKIT" parse --bogus x >/dev/null 2>&1; [ $? -eq 2 ]; check "unknown option is a usage error" $?
err=$("$SIPKIT" parse "$tmp/does-not-exist" 2>&1 >/dev/null); [ $? -eq 2 ]
check "unreadable file exits 2" $?
echo "$err" | grep -q 'cannot read'; check "unreadable file message" $?

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
