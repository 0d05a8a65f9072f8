#!/bin/sh
# The Debian package: dpkg-buildpackage -b builds sipkit_*.deb from a copy
# of the tree; dpkg -i installs it (the sipkit user, /var/lib/sipkit, the
# admin token, the unit, the man page); the installed binary runs and
# accepts the installed configuration; systemd-analyze verify accepts the
# unit; purge removes it all again.
#
# It installs a package on the machine, needs root and takes a few
# minutes on 2 cores (a release build), so it runs only when CI=true or
# SK_TEST_DEB=1; otherwise it reports itself skipped (exit 77).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
if [ "${CI:-}" != true ] && [ "${SK_TEST_DEB:-}" != 1 ]; then
    echo "skipped: set CI=true or SK_TEST_DEB=1 (builds and installs the package)"
    exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "skipped: dpkg -i needs root"
    exit 77
fi
for t in dpkg-buildpackage dh help2man systemd-analyze; do
    command -v "$t" >/dev/null || { echo "FAIL: $t missing (scripts/deps)"; exit 1; }
done
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d /tmp/sipkit-deb.XXXXXX)
FAILS=0
cleanup() {
    dpkg -s sipkit >/dev/null 2>&1 && dpkg --purge sipkit >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT
check() { # name got want
    if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: got '$2', want '$3'"; FAILS=$((FAILS + 1)); fi
}
if dpkg -s sipkit >/dev/null 2>&1; then
    echo "FAIL: a sipkit package is already installed; not touching it"; exit 1
fi

# The tree as git sees it (tracked and new files, no build directories);
# without git (a tree copied in), everything but the build directories.
mkdir "$TMP/sipkit-0.1.0"
if command -v git >/dev/null && git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$SRC" && git ls-files -co --exclude-standard -z | xargs -0 tar cf -)
else
    (cd "$SRC" && tar cf - --exclude='./build*' --exclude=./.git .)
fi | tar xf - -C "$TMP/sipkit-0.1.0"
(cd "$TMP/sipkit-0.1.0" &&
    DEB_BUILD_OPTIONS="nocheck parallel=2" timeout 480 dpkg-buildpackage -b -us -uc \
        </dev/null >"$TMP/build.log" 2>&1)
check "dpkg-buildpackage -b -us -uc" "$?" 0 || true
deb=$(ls "$TMP"/sipkit_*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
    echo "FAIL: no sipkit_*.deb"; tail -n 40 "$TMP/build.log"; exit 1
fi
echo "built $(basename "$deb")"
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/sipkit ./lib/systemd/system/sipkit.service ./etc/sipkit/sipkit.conf \
    ./usr/share/man/man1/sipkit.1.gz ./usr/share/doc/sipkit/api.md; do
    printf '%s\n' "$contents" | grep -Eq " $f(\.gz)?\$"
    check "the package holds $f" "$?" 0
done

# Everything the package depends on must already be here (scripts/deps):
# dpkg -i installs nothing else.
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" </dev/null >"$TMP/install.log" 2>&1
rc=$?
check "dpkg -i" "$rc" 0
[ "$rc" -eq 0 ] || sed 's/^/    dpkg: /' "$TMP/install.log"
check "sipkit version" "$(/usr/bin/sipkit version)" "sipkit 0.1.0"
/usr/bin/sipkit serve --check-config --config /etc/sipkit/sipkit.conf >"$TMP/check.out" 2>&1
check "sipkit serve --check-config --config /etc/sipkit/sipkit.conf" "$?" 0
check "the sipkit user exists" "$(getent passwd sipkit | cut -d: -f1)" sipkit
check "/var/lib/sipkit belongs to sipkit, mode 700" "$(stat -c '%U %a' /var/lib/sipkit)" "sipkit 700"
check "the admin token: root:sipkit 640" "$(stat -c '%U:%G %a' /etc/sipkit/admin.token)" "root:sipkit 640"
check "the admin token is long enough" "$([ "$(wc -c </etc/sipkit/admin.token)" -ge 17 ] && echo yes)" yes
# Read from the package, not the installed file: minimal images exclude
# /usr/share/man from installation (dpkg path-exclude) and lack man.
dpkg-deb --fsys-tarfile "$deb" | tar xOf - ./usr/share/man/man1/sipkit.1.gz | gzip -dc |
    grep -q -- 'admin\\-token\\-file\|admin-token-file'
check "the man page lists the serve options" "$?" 0
# The service's user can run the server with the installed files: its
# data directory, the token (root:sipkit 640), the admin API on loopback
# (ports 0: free ones, so nothing already on 5060 or 9060 matters).
runuser -u sipkit -- /usr/bin/sipkit serve --config /etc/sipkit/sipkit.conf \
    --listen 127.0.0.1:0 --admin 127.0.0.1:0 --workers 1 >/dev/null 2>"$TMP/serve.log" &
SPID=$!
APORT=
for _ in $(seq 1 100); do
    APORT=$(sed -n 's/.*event=listening transport=http addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TMP/serve.log")
    [ -n "$APORT" ] && break
    sleep 0.1
done
timeout 20 /usr/bin/sipkit status --server "http://127.0.0.1:$APORT" >"$TMP/status.out" 2>&1
check "the sipkit user serves; sipkit status --server answers with the installed token" "$?" 0
kill -TERM "$SPID" 2>/dev/null
for _ in $(seq 1 150); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
[ -e /var/lib/sipkit/sipkit.db ]
check "its data lands in /var/lib/sipkit" "$?" 0
systemd-analyze verify /lib/systemd/system/sipkit.service >"$TMP/verify.out" 2>&1
check "systemd-analyze verify sipkit.service" "$?" 0
[ -s "$TMP/verify.out" ] && sed 's/^/    systemd-analyze: /' "$TMP/verify.out"

dpkg --purge sipkit >"$TMP/purge.log" 2>&1
check "dpkg --purge" "$?" 0
check "purge removes the binary" "$([ -e /usr/bin/sipkit ] && echo left || echo gone)" gone
check "purge removes /var/lib/sipkit" "$([ -e /var/lib/sipkit ] && echo left || echo gone)" gone
check "purge removes /etc/sipkit" "$([ -e /etc/sipkit ] && echo left || echo gone)" gone
if [ "$FAILS" -ne 0 ]; then
    echo "$FAILS check(s) failed; build log tail:"; tail -n 30 "$TMP/build.log"; exit 1
fi
echo "all checks passed"
