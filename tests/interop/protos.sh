#!/bin/sh
# PROTOS c07-sip robustness: the malformed INVITE cases (and their teardown
# requests) go to a running `sipkit serve` over UDP and over TCP; after each
# case the server must still answer OPTIONS, it must never crash or hang,
# and it must exit 0 on SIGTERM afterwards. The cases (GPLv2) are
# extracted from the shared test data into a temp dir at run time.
#
# All 4527 cases run by default (about 15 s with ASan: the sender is a small
# C tool, tests/interop/protos_send.c). PROTOS_EVERY=N sends every Nth case
# of each group instead, for quick runs while debugging.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
: "${SK_PROTOS_SEND:?SK_PROTOS_SEND must point to the protos_send tool}"
DATA=${SK_TESTDATA_DIR:?}/other/protos-c07-sip
EVERY=${PROTOS_EVERY:-1}

tar -xzf "$DATA/cases.tar.gz" -C "$TMP" || { echo "FAIL: cannot extract $DATA/cases.tar.gz"; exit 1; }
n=$(ls "$TMP/cases" | wc -l)
check "cases extracted" "$n" 4527

# Many cases in a row from one address: not what the flood limit is for.
start_server --trusted 127.0.0.1
for t in udp tcp; do
    # 5 s per OPTIONS at most; the whole run is bounded by CTest's timeout.
    "$SK_PROTOS_SEND" "$t" "$PORT" "$TMP/cases" "$DATA/GROUPS.tsv" "$EVERY" 5000 >"$TMP/$t.out" 2>&1
    rc=$?
    grep -v '^ok: ' "$TMP/$t.out"
    tail -n 1 "$TMP/$t.out"
    check "every $t case followed by an answered OPTIONS (every $EVERY)" "$rc" 0
    kill -0 "$SERVER_PID" 2>/dev/null
    check "server alive after the $t cases" "$?" 0
done
check_match "the valid case: INVITE and CANCEL both answered" "$(cat "$TMP/udp.out")" \
    '^ok: udp valid +cases=1 +answers=2$'
groups=$(grep -c '^ok: udp [a-z].* cases=[1-9]' "$TMP/udp.out")
check "all 54 groups covered over UDP" "$groups" 54
stop_server
finish
