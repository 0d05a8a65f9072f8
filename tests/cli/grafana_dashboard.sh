#!/bin/sh
# contrib/grafana/sipkit.json is valid JSON and every panel's query is
# valid PromQL (promtool check rules, with Grafana's variables filled in)
# naming only metric families that GET /metrics serves (docs/api.md).
set -u
DASH=$(dirname "$0")/../../contrib/grafana/sipkit.json
command -v promtool >/dev/null || { echo "FAIL: promtool missing (scripts/deps)"; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 - "$DASH" "$TMP/rules.yml" "$TMP/names" <<'PY' || exit 1
import json, re, sys
d = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in d["panels"] for t in p["targets"]]
with open(sys.argv[2], "w") as f:
    f.write("groups:\n- name: dashboard\n  rules:\n")
    for i, e in enumerate(exprs):
        e = e.replace("$__rate_interval", "5m").replace("$job", "sipkit").replace("$instance", ".*")
        f.write("  - record: dashboard:q%d\n    expr: %s\n" % (i, json.dumps(e)))
names = set(re.findall(r"\b((?:sipkit|process)_[a-z_]+)", " ".join(exprs)))
open(sys.argv[3], "w").write("\n".join(sorted(names)) + "\n")
PY
fails=0
promtool check rules "$TMP/rules.yml" >"$TMP/out" 2>&1 || { cat "$TMP/out"; fails=1; }
while read -r n; do
    base=$(printf '%s' "$n" | sed 's/_bucket$//')
    grep -q "$base" "$(dirname "$0")/../../src/admin/metrics.c" ||
        { echo "FAIL: $n is not served by src/admin/metrics.c"; fails=1; }
done <"$TMP/names"
[ "$fails" -eq 0 ] && echo "all checks passed"
exit "$fails"
