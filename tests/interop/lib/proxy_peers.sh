# Helpers for the proxy tests (sourced after common.sh): users, SIPp
# callers and callees over loopback, each run bounded by `timeout`; the
# background ones are killed by PID on exit.
SCEN=$(dirname "$0")/scenarios
DOMAIN=${DOMAIN:-example.test}
BG=""

proxy_cleanup() {
    for p in $BG; do
        kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    done
    cleanup
}
trap proxy_cleanup EXIT

add_user() { # name password
    printf '%s\n' "$2" | "$SIPKIT" users add "$1" --password-stdin --data-dir "$TMP/data" \
        --domain "$DOMAIN" >/dev/null 2>&1
    check "users add $1" "$?" 0
}

# sipp_run NAME PORT SCENARIO [args...]: a bounded UAC run towards the proxy.
sipp_run() {
    local name=$1 port=$2 scen=$3
    shift 3
    timeout 25 sipp 127.0.0.1:"$PORT" -sf "$scen" -t u1 -i 127.0.0.1 -p "$port" -m 1 \
        -set domain "$DOMAIN" -timeout 20s -recv_timeout 8000 -nostdin -trace_logs -trace_err \
        -log_file "$TMP/$name.log" -error_file "$TMP/$name.err" "$@" >"$TMP/$name.out" 2>&1
}

register() { # name port user password
    sipp_run "$1" "$2" "$SCEN/proxy_register.xml" -s "$3" -au "$3" -ap "$4" -auth_uri "$DOMAIN"
    check "$3 registers from port $2" "$?" 0
}

register_tcp() { # name port user password
    sipp_run "$1" "$2" "$SCEN/proxy_register.xml" -t t1 -s "$3" -au "$3" -ap "$4" \
        -auth_uri "$DOMAIN"
    check "$3 registers over TCP from port $2" "$?" 0
}

# uas_start NAME PORT SCENARIO [args]: a callee in the background; sets UAS_PID.
uas_start() {
    local name=$1 port=$2 scen=$3
    shift 3
    timeout 25 sipp -sf "$scen" -t u1 -i 127.0.0.1 -p "$port" -m 1 -timeout 20s -nostdin \
        -trace_logs -trace_err -log_file "$TMP/$name.log" -error_file "$TMP/$name.err" "$@" \
        >"$TMP/$name.out" 2>&1 &
    UAS_PID=$!
    BG="$BG $UAS_PID"
    sleep 0.5
}

uas_wait() { # name pid
    wait "$2"
    check "callee $1 scenario completed" "$?" 0
}

from_template() { # in out CODE REASON/BODY
    sed -e "s/@CODE@/$3/g" -e "s/@REASON@/$4/g" -e "s/@BODY@/$4/g" "$1" >"$2"
}
