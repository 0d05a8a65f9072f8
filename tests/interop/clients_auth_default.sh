#!/bin/sh
# baresip and twinkle-console register with users left on the server's
# default digest algorithms (auth.algorithms, no per-user list): every
# challenge the server offers must be one they can answer, since both give
# up on a 401 as soon as one of its WWW-Authenticate headers names an
# algorithm they do not know (baresip 1.0 says "Function not implemented",
# twinkle 1.10 "registration failed: 401"), whatever comes first.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/ua.sh"
need baresip
need twinkle-console

users_add alice carol
start_server --trace
bs_start alice alice "$(ua_port)" udp
tw_start carol carol "$(peer_port)" udp
ua_check alice "baresip registers with the default algorithms" 'registered successfully'
ua_check carol "twinkle registers with the default algorithms" 'carol: registration succeeded'
check_match "the server offered" "$(grep -m 3 '^WWW-Authenticate:' "$TRACE")" 'algorithm=MD5'
grep -m 3 '^WWW-Authenticate:' "$TRACE" | sed 's/^/info: /'
finish
