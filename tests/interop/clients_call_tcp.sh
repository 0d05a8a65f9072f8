#!/bin/sh
# Calls over TCP between baresip, linphonec and twinkle-console through
# `sipkit serve` with its default options, each side hanging up in turn
# (the steps are in lib/calls.sh).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/ua.sh"
TRANSPORT=tcp
. "$(dirname "$0")/lib/calls.sh"
