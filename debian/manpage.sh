#!/bin/sh
# sipkit(1) from the --help texts (help2man): the commands, then every
# option of `sipkit serve` from the option table.
set -eu
bin=$1 out=$2
inc=$(dirname "$out")/serve-options.h2m
{
    echo '[SERVE OPTIONS]'
    echo '.nf'
    "$bin" serve --help | sed 's/\\/\\\\/g'
    echo '.fi'
    echo '[FILES]'
    echo '/etc/sipkit/sipkit.conf: the configuration (INI) of the sipkit service.'
    echo '.br'
    echo '/etc/sipkit/admin.token: the admin API bearer token.'
    echo '.br'
    echo '/var/lib/sipkit: users, bindings and subscriptions (SQLite).'
} >"$inc"
help2man --no-info --no-discard-stderr --section 1 --name "SIP server and toolkit" \
    --include "$inc" --output "$out" "$bin"
