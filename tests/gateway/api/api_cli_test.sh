#!/usr/bin/env bash
# `ergw config ...`, `ergw apikey ...` and `ergw status` through the API, over
# the local socket and over HTTPS with a key, against api_test_server.
#   api_cli_test.sh ERGW API_TEST_SERVER SOURCE_DIR
set -euo pipefail
ergw=$1 server_binary=$2 source_dir=$3
. "$(dirname "$0")/api_test_server.sh"
start_api_test_server "$server_binary" api-cli
local_api=(--socket "$state/api.sock")

# A file with its PSK in a key file: the CLI reads it and sends it inline.
mkdir -p "$state/etc/keys"
printf 'CliKeyFromAFile0123456789abcd\n' >"$state/etc/keys/hub.psk"
chmod 600 "$state/etc/keys/hub.psk"
# And a BGP password (TCP MD5) in its own key file, sent inline the same way.
printf 'CliBgpMd5FromAFile42\n' >"$state/etc/keys/hub.bgp-password"
chmod 600 "$state/etc/keys/hub.bgp-password"
python3 - "$source_dir/examples/lab.json" "$state/etc/ergw.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
del c["connections"][0]["azure"]["properties"]["sharedKey"]
c["connections"][0]["sharedKeyFile"] = "keys/hub.psk"
c["connections"][0]["bgpPasswordFile"] = "keys/hub.bgp-password"
json.dump(c, open(sys.argv[2], "w"), indent=2)
PY
out=$("$ergw" config apply "$state/etc/ergw.json" "${local_api[@]}" --comment "from the CLI") || fail "apply: $out"
grep -q "revision 1 applied" <<<"$out" || fail "apply said: $out"
grep -q "azure-hub: added, up" <<<"$out" || fail "apply said: $out"
"$ergw" status "${local_api[@]}" | grep -q "azure-hub  UP" || fail "status"
"$ergw" status --json "${local_api[@]}" | grep -q '"active_revision": 1' || fail "status --json"
"$ergw" config show "${local_api[@]}" 2>/dev/null | grep -q CliKeyFromAFile && fail "config show printed the PSK"
"$ergw" config show "${local_api[@]}" 2>/dev/null | grep -q CliBgpMd5FromAFile && fail "config show printed the BGP password"
"$ergw" config show "${local_api[@]}" 2>/dev/null | grep -q bgpPassword && fail "config show named a BGP password"
grep -q CliBgpMd5FromAFile <<<"$out" && fail "apply printed the BGP password"
"$ergw" config diff "${local_api[@]}" 2>/dev/null | grep -q CliBgpMd5FromAFile && fail "config diff printed the BGP password"

sed 's/"dpdTimeoutSeconds": 45/"dpdTimeoutSeconds": 30/' "$state/etc/ergw.json" >"$state/etc/edit.json"
out=$("$ergw" config apply "$state/etc/edit.json" --confirm 60 "${local_api[@]}") || fail "apply --confirm: $out"
grep -q "CONFIRM by" <<<"$out" || fail "no confirm deadline: $out"
"$ergw" config diff "${local_api[@]}" | grep -q '~ connections\[azure-hub\].azure.properties.dpdTimeoutSeconds: 45 -> 30' \
  || fail "diff"
"$ergw" config revisions "${local_api[@]}" | grep -qE '^2 +pending' || fail "revisions: not pending"
set +e
"$ergw" config apply "$state/etc/ergw.json" "${local_api[@]}" 2>"$state/err"; code=$?
set -e
[ $code = 1 ] && grep -q "waits for its confirmation" "$state/err" || fail "a write while pending: $code $(cat "$state/err")"
"$ergw" config confirm "${local_api[@]}" | grep -q "revision 2 confirmed" || fail "confirm"

# Over HTTPS with a key.
key=$("$ergw" apikey create automation --scope admin "${local_api[@]}" 2>/dev/null)
remote=(--url "https://localhost:$port" --cacert "$state/api/tls.crt" --key-file "$state/key")
printf '%s\n' "$key" >"$state/key"
out=$("$ergw" config rollback 1 "${remote[@]}") || fail "rollback: $out"
grep -q "revision 3 applied" <<<"$out" || fail "rollback said: $out"
"$ergw" config revisions --json "${remote[@]}" | grep -q '"author": "automation"' || fail "author"
ERGW_URL="https://localhost:$port" ERGW_API_KEY="$key" "$ergw" status --cacert "$state/api/tls.crt" | grep -q UP \
  || fail "status from the environment's URL and key"
set +e
"$ergw" status --url "https://localhost:$port" --key "$key" >/dev/null 2>"$state/err"; code=$?
set -e
[ $code = 1 ] && grep -qi "certificate" "$state/err" || fail "an unverified certificate was accepted: $(cat "$state/err")"
"$ergw" apikey list "${local_api[@]}" | grep -q '^automation' || fail "apikey list"
grep -q "$key" <("$ergw" apikey list "${local_api[@]}") && fail "apikey list printed a key"
"$ergw" apikey revoke automation "${local_api[@]}" >/dev/null || fail "revoke"
set +e
"$ergw" status "${remote[@]}" 2>"$state/err"; code=$?
set -e
[ $code = 1 ] && grep -q "authentication required" "$state/err" || fail "a revoked key worked"

# Invalid: exit 2 and every error.
echo '{"connections": [{"name": "x"}]}' >"$state/bad.json"
set +e
"$ergw" config apply "$state/bad.json" "${local_api[@]}" 2>"$state/err"; code=$?
set -e
[ $code = 2 ] || fail "invalid configuration: exit $code"
[ "$(grep -c '^error:' "$state/err")" -ge 3 ] || fail "not every error: $(cat "$state/err")"
grep -q CliKeyFromAFile "$state/log" "$state/audit.log" && fail "the PSK is in a log"
grep -q CliBgpMd5FromAFile "$state/log" "$state/audit.log" && fail "the BGP password is in a log"
echo PASS
