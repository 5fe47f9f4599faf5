#!/usr/bin/env bash
# The management API with curl, the client most automation starts with:
# TLS 1.2 and 1.3 accepted, 1.1 refused, plain HTTP refused, keys required,
# a configuration PUT with If-Match and the ETag that comes back.
#   api_curl_test.sh API_TEST_SERVER SOURCE_DIR
set -euo pipefail
server_binary=$1 source_dir=$2
. "$(dirname "$0")/api_test_server.sh"
start_api_test_server "$server_binary" api-curl
url=https://127.0.0.1:$port
ca=(--cacert "$state/api/tls.crt")

key=$(curl -sf --unix-socket "$state/api.sock" -H 'Content-Type: application/json' \
  -d '{"name":"curl","scope":"admin"}' http://localhost/v1/apikeys | sed -n 's/.*"key": "\([^"]*\)".*/\1/p')
[ -n "$key" ] || fail "no key from the local socket"
auth=(-H "Authorization: Bearer $key")

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

[ "$(code "${ca[@]}" --tlsv1.2 --tls-max 1.2 "${auth[@]}" "$url/v1/status")" = 200 ] || fail "TLS 1.2"
[ "$(code "${ca[@]}" --tlsv1.3 "${auth[@]}" "$url/v1/status")" = 200 ] || fail "TLS 1.3"
if curl -s -o /dev/null "${ca[@]}" --tlsv1.1 --tls-max 1.1 --ciphers 'DEFAULT:@SECLEVEL=0' "$url/healthz"; then
  fail "TLS 1.1 was accepted"
fi
[ "$(code "http://127.0.0.1:$port/v1/status")" = 400 ] || fail "plain HTTP was not refused"
[ "$(code "${ca[@]}" "$url/v1/status")" = 401 ] || fail "no key"
[ "$(code "${ca[@]}" -H "Authorization: Bearer ergw_0000000000000000_nope" "$url/v1/status")" = 401 ] || fail "wrong key"
[ "$(code "${ca[@]}" "$url/healthz")" = 200 ] || fail "healthz"

etag=$(curl -sf "${ca[@]}" "${auth[@]}" -D - -o /dev/null "$url/v1/config" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
[ "$etag" = '"0"' ] || fail "ETag of the empty configuration: $etag"
[ "$(code "${ca[@]}" "${auth[@]}" -X PUT -H 'Content-Type: application/json' \
      --data-binary @"$source_dir/examples/lab.json" "$url/v1/config")" = 428 ] || fail "PUT without If-Match"
[ "$(code "${ca[@]}" "${auth[@]}" -X PUT -H 'Content-Type: application/json' -H 'If-Match: "0"' \
      --data-binary @"$source_dir/examples/lab.json" "$url/v1/config")" = 200 ] || fail "PUT with If-Match"
[ "$(code "${ca[@]}" "${auth[@]}" -X PUT -H 'Content-Type: application/json' -H 'If-Match: "0"' \
      --data-binary @"$source_dir/examples/lab.json" "$url/v1/config")" = 412 ] || fail "PUT with a stale If-Match"
curl -sf "${ca[@]}" "${auth[@]}" "$url/v1/config" | grep -q LabOnlyKey && fail "the PSK came back"
# The body is read whole before grep: with pipefail, `curl | grep -q` fails
# whenever grep stops reading first (curl then dies of SIGPIPE).
metrics=$(curl -sf "${ca[@]}" "${auth[@]}" "$url/metrics") || fail "GET /metrics"
grep -q '^ergw_config_revision 1$' <<<"$metrics" || fail "metrics: $(grep '^ergw_config' <<<"$metrics")"
grep -q LabOnlyKey "$state/log" "$state/audit.log" && fail "the PSK is in a log"
echo "PASS"
