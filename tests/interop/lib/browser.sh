# Browser helpers for the interop tests (sourced after common.sh and
# tls.sh): Chromium and Node.js from Debian (scripts/deps), JsSIP from the
# npm registry built into one browser script and kept in a cache directory,
# so that later runs need no network.

JSSIP_VERSION=3.13.8
ESBUILD_VERSION=0.24.2
BROWSER_CACHE=${SK_TEST_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/sipkit-test}

# browser_missing WHAT: a FAIL under CI=true (the tools are in scripts/deps),
# a skip otherwise.
browser_missing() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL: $1"
        exit 1
    fi
    echo "SKIP: $1"
    exit 77
}

# browser_need CMD: CMD is on PATH, or browser_missing.
browser_need() {
    command -v "$1" >/dev/null 2>&1 || browser_missing "$1 is not installed (scripts/deps)"
}

# jssip_bundle: sets JSSIP_JS to JsSIP as one script for a page (the npm
# package is CommonJS modules; esbuild bundles them with their
# dependencies into a global JsSIP). Made once per version in
# $BROWSER_CACHE, in a temporary directory moved into place when complete.
jssip_bundle() {
    local dir=$BROWSER_CACHE/jssip-$JSSIP_VERSION work
    JSSIP_JS=$dir/jssip.js
    [ -s "$JSSIP_JS" ] && return 0
    browser_need npm
    mkdir -p "$BROWSER_CACHE" || browser_missing "cannot create $BROWSER_CACHE"
    work=$(mktemp -d "$dir.XXXXXX")
    echo '{ "private": true }' >"$work/package.json"
    if ! (cd "$work" &&
        npm install --no-audit --no-fund --prefer-offline --loglevel=error \
            "jssip@$JSSIP_VERSION" "esbuild@$ESBUILD_VERSION" &&
        node_modules/.bin/esbuild node_modules/jssip/lib/JsSIP.js --bundle --format=iife \
            --global-name=JsSIP --log-level=warning --outfile=jssip.js) >"$TMP/npm.log" 2>&1; then
        sed 's/^/    /' "$TMP/npm.log"
        rm -rf "$work"
        browser_missing "could not install JsSIP $JSSIP_VERSION with npm"
    fi
    # Another run may have put it in place meanwhile: keep theirs.
    rm -rf "$work/node_modules"
    mv -T "$work" "$dir" 2>/dev/null || rm -rf "$work"
}

# browser_home DIR CA: DIR becomes a home directory for the browser whose
# NSS database ($DIR/.pki/nssdb, which Chromium reads on Linux) trusts
# CA.PEM for TLS servers, as a person would add a CA in the settings.
browser_home() {
    mkdir -p "$1/.pki/nssdb" &&
        certutil -N -d "sql:$1/.pki/nssdb" --empty-password &&
        certutil -A -d "sql:$1/.pki/nssdb" -n "sipkit test CA" -t "C,," -i "$TMP/$2.pem" ||
        { echo "FAIL: certutil could not make a browser profile trusting $2"; exit 1; }
}
