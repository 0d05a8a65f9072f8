#!/bin/sh
# sipkit users add|passwd|del|list: the acceptance contract
# (sipkit users add NAME --password-stdin --data-dir DIR --domain DOMAIN),
# exit statuses and messages for every error the issue names.
set -u
: "${SIPKIT:?SIPKIT must point at the sipkit binary}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sk-users-XXXXXX")
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT INT TERM
fails=0

# expect STATUS DESCRIPTION -- command...: run it, compare the exit status.
expect() {
    want=$1 what=$2
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: $what: exit $got, want $want"
        sed 's/^/  stderr: /' "$tmp/err"
        fails=$((fails + 1))
    fi
}
# stderr_has TEXT DESCRIPTION
stderr_has() {
    if ! grep -q -- "$1" "$tmp/err"; then
        echo "FAIL: $2: stderr lacks '$1':"
        sed 's/^/  stderr: /' "$tmp/err"
        fails=$((fails + 1))
    fi
}
stdout_is() {
    if [ "$(cat "$tmp/out")" != "$1" ]; then
        echo "FAIL: $2: stdout is '$(cat "$tmp/out")', want '$1'"
        fails=$((fails + 1))
    fi
}

d="$tmp/data"
add() { printf '%s\n' "$2" | "$SIPKIT" users add "$1" --password-stdin --data-dir "$d" --domain example.com; }

expect 0 "add alice" -- add alice 'secret one'
[ -f "$d/sipkit.db" ] || { echo "FAIL: no $d/sipkit.db"; fails=$((fails + 1)); }
expect 1 "add alice twice" -- add alice other
stderr_has "already exists" "add alice twice"
expect 0 "add bob" -- add bob 'b pw'
expect 0 "add carol in another domain" -- sh -c "printf 'x\n' | '$SIPKIT' users add carol --password-stdin --data-dir '$d' --domain=other.org"

expect 0 "list" -- "$SIPKIT" users list --data-dir "$d" --domain example.com
stdout_is "alice
bob" "list example.com"
expect 0 "list other" -- "$SIPKIT" users list --data-dir "$d" --domain other.org
stdout_is "carol" "list other.org"

# No plaintext password on disk.
if grep -q "secret one" "$d"/sipkit.db* 2>/dev/null; then
    echo "FAIL: the password is stored in clear"
    fails=$((fails + 1))
fi

expect 1 "empty password" -- sh -c "printf '\n' | '$SIPKIT' users add dave --password-stdin --data-dir '$d' --domain example.com"
stderr_has "empty password" "empty password"
expect 1 "no stdin at all" -- sh -c "'$SIPKIT' users add dave --password-stdin --data-dir '$d' --domain example.com </dev/null"
stderr_has "empty password" "no stdin at all"
expect 1 "no terminal and no --password-stdin" -- sh -c "'$SIPKIT' users add dave --data-dir '$d' --domain example.com </dev/null"
stderr_has "password-stdin" "no terminal"

expect 0 "passwd alice" -- sh -c "printf 'new pw\n' | '$SIPKIT' users passwd alice --password-stdin --data-dir '$d' --domain example.com"
expect 1 "passwd unknown" -- sh -c "printf 'x\n' | '$SIPKIT' users passwd zoe --password-stdin --data-dir '$d' --domain example.com"
stderr_has "unknown user 'zoe'" "passwd unknown"
expect 0 "del bob" -- "$SIPKIT" users del bob --data-dir "$d" --domain example.com
expect 1 "del bob again" -- "$SIPKIT" users del bob --data-dir "$d" --domain example.com
stderr_has "unknown user 'bob'" "del bob again"
expect 0 "list after del" -- "$SIPKIT" users list --data-dir "$d" --domain example.com
stdout_is "alice" "list after del"

# --algorithms: a user who must use stronger digests.
expect 0 "add with --algorithms" -- sh -c "printf 'x\n' | '$SIPKIT' users add frank --password-stdin --algorithms 'SHA-256' --data-dir '$d' --domain example.com"
got=$(sqlite3 "$d/sipkit.db" "SELECT algorithms FROM users WHERE username = 'frank'")
[ "$got" = "SHA-256" ] || { echo "FAIL: frank's algorithms are '$got', want SHA-256"; fails=$((fails + 1)); }
expect 0 "set --algorithms" -- "$SIPKIT" users set frank --algorithms 'sha-512-256,SHA-256' --data-dir "$d" --domain example.com
got=$(sqlite3 "$d/sipkit.db" "SELECT algorithms FROM users WHERE username = 'frank'")
[ "$got" = "SHA-512-256 SHA-256" ] || { echo "FAIL: frank's algorithms are '$got'"; fails=$((fails + 1)); }
expect 0 "set default" -- "$SIPKIT" users set frank --algorithms default --data-dir "$d" --domain example.com
got=$(sqlite3 "$d/sipkit.db" "SELECT algorithms FROM users WHERE username = 'frank'")
[ -z "$got" ] || { echo "FAIL: frank's algorithms are '$got' after default"; fails=$((fails + 1)); }
expect 2 "bad --algorithms" -- sh -c "printf 'x\n' | '$SIPKIT' users add gina --password-stdin --algorithms 'SHA-1' --data-dir '$d' --domain example.com"
stderr_has "SHA-1" "bad --algorithms"
expect 1 "gina not added" -- "$SIPKIT" users del gina --data-dir "$d" --domain example.com
expect 2 "set without --algorithms" -- "$SIPKIT" users set frank --data-dir "$d" --domain example.com
expect 1 "set unknown user" -- "$SIPKIT" users set zoe --algorithms MD5 --data-dir "$d" --domain example.com
expect 2 "--algorithms with del" -- "$SIPKIT" users del frank --algorithms MD5 --data-dir "$d" --domain example.com
expect 0 "del frank" -- "$SIPKIT" users del frank --data-dir "$d" --domain example.com

mkdir "$tmp/ro" && chmod 0555 "$tmp/ro" && chmod 0755 "$tmp"
# Root writes anywhere: drop to nobody when we can, else skip this check.
as_user=""
if [ "$(id -u)" -eq 0 ]; then
    if command -v setpriv >/dev/null 2>&1; then
        as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
    else
        as_user=skip
    fi
fi
if [ "$as_user" != skip ]; then
    expect 6 "unwritable data dir" -- $as_user sh -c "printf 'x\n' | '$SIPKIT' users add alice --password-stdin --data-dir '$tmp/ro' --domain example.com"
    stderr_has "Permission denied" "unwritable data dir"
    expect 6 "data dir cannot be created" -- $as_user sh -c "printf 'x\n' | '$SIPKIT' users add alice --password-stdin --data-dir '$tmp/ro/new' --domain example.com"
else
    echo "skipped: unwritable data directory (root without setpriv)"
fi
expect 6 "data dir under a file" -- sh -c "printf 'x\n' | '$SIPKIT' users add alice --password-stdin --data-dir '$d/sipkit.db/x' --domain example.com"

expect 2 "no subcommand" -- "$SIPKIT" users
expect 2 "unknown subcommand" -- "$SIPKIT" users frob
expect 2 "add without a name" -- "$SIPKIT" users add --data-dir "$d"
expect 2 "unknown option" -- "$SIPKIT" users list --bogus
expect 0 "help" -- "$SIPKIT" users --help
# Default domain: the command works without --domain.
expect 0 "default domain" -- sh -c "cd '$tmp' && printf 'x\n' | '$SIPKIT' users add eve --password-stdin && '$SIPKIT' users list | grep -qx eve"
[ -f "$tmp/data/sipkit.db" ] || { echo "FAIL: default --data-dir is not ./data"; fails=$((fails + 1)); }

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "users.sh: all checks passed"
