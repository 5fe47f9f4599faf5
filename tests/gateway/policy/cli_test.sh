#!/usr/bin/env bash
# ergw policy check/compile: exit codes, where output goes, and that the PSK
# never appears unless asked for.  usage: cli_test.sh ERGW SOURCE_DIR
set -u
ergw=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# A valid configuration: exit 0, swanctl.conf on stdout, redacted PSK.
"$ergw" policy check "$src/examples/lab.json" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] || fail "check lab.json exited $rc: $(cat "$tmp/err")"
"$ergw" policy compile "$src/examples/lab.json" >"$tmp/conf" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] || fail "compile lab.json exited $rc"
grep -q 'proposals = aes256gcm16-prfsha384-ecp384' "$tmp/conf" || fail "compile: IKE proposal missing"
grep -q 'secret = <redacted>' "$tmp/conf" || fail "compile: secret not redacted"
grep -q 'LabOnlyKey4ergwDemo' "$tmp/conf" "$tmp/err" && fail "compile: the PSK leaked"
"$ergw" policy compile --show-secrets "$src/examples/lab.json" >"$tmp/conf2" 2>/dev/null
grep -q 'LabOnlyKey4ergwDemo' "$tmp/conf2" || fail "--show-secrets did not show the PSK"

# Bare Azure objects in both shapes: valid, warnings/notes on stderr only.
for f in azure/connection-arm.json azure/connection-az-show.json; do
  "$ergw" policy check "$src/examples/$f" >"$tmp/out" 2>"$tmp/err"; rc=$?
  [ $rc -eq 0 ] || fail "check $f exited $rc"
  grep -q 'error' "$tmp/out" && fail "check $f: diagnostics on stdout"
done
grep -q 'warning: ipsecPolicies: no custom policy' "$tmp/err" || fail "az-show: default-offer warning missing"

# An invalid file: exit 2 and every error at once, nothing on stdout.
cat >"$tmp/bad.json" <<'JSON'
{"properties": {"connectionType": "IPsec", "connectionProtocol": "IKEv1", "sharedKey": "bad key with spaces",
 "dpdTimeoutSeconds": 5, "ipsecPolicies": [{"saLifeTimeSeconds": 100, "saDataSizeKilobytes": 1024,
 "ipsecEncryption": "GCMAES256", "ipsecIntegrity": "SHA256", "ikeEncryption": "AES256", "ikeIntegrity": "SHA256",
 "dhGroup": "DHGroup14", "pfsGroup": "PFS2048"}]}}
JSON
"$ergw" policy compile "$tmp/bad.json" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "bad.json: exit $rc, expected 2"
[ -s "$tmp/out" ] && fail "bad.json: something was printed on stdout"
for what in connectionProtocol sharedKey dpdTimeoutSeconds saLifeTimeSeconds ipsecIntegrity; do
  grep -q "^error: properties.*$what" "$tmp/err" || fail "bad.json: no error for $what"
done
grep -q 'bad key with spaces' "$tmp/err" && fail "bad.json: the PSK leaked into an error"
grep -q '5 error(s)' "$tmp/err" || fail "bad.json: error count line missing: $(tail -1 "$tmp/err")"

# The BGP rules are the rule book's too: `check` refuses what ergwd refuses,
# and --strict-expressroute turns the ExpressRoute warning into an error.
python3 - "$src/examples/lab-bgp.json" "$tmp" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
conn = doc["connections"][0]
conn["local"]["expressRoutePrefixes"] = [conn["local"]["prefixes"][0]]
json.dump(doc, open(sys.argv[2] + "/er.json", "w"))
conn["local"]["asn"] = 65517
conn["local"]["prefixes"].append("10.0.1.0/24")
json.dump(doc, open(sys.argv[2] + "/bgp-bad.json", "w"))
PY
"$ergw" policy check "$tmp/er.json" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] || fail "er.json: exit $rc: $(cat "$tmp/err")"
grep -q '^warning: .*local.prefixes\[0\]: .*ExpressRoute' "$tmp/err" || fail "er.json: no ExpressRoute warning"
"$ergw" policy check --strict-expressroute "$tmp/er.json" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "er.json --strict-expressroute: exit $rc"
grep -q '^error: .*local.prefixes\[0\]: .*ExpressRoute' "$tmp/err" || fail "strict: no ExpressRoute error"
"$ergw" policy check "$tmp/bgp-bad.json" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "bgp-bad.json: exit $rc"
grep -q '^error: .*local.asn: 65517 is reserved by Azure' "$tmp/err" || fail "bgp-bad.json: reserved ASN not refused"
grep -q '^error: .*local.prefixes\[1\]: 10.0.1.0/24 overlaps VNet prefix' "$tmp/err" ||
  fail "bgp-bad.json: VNet overlap not refused: $(cat "$tmp/err")"

# 4,001 exported prefixes: refused by check as by ergwd (4,000 pass).
python3 - "$src/examples/lab-bgp.json" "$tmp" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
conn = doc["connections"][0]
conn["local"]["prefixes"] = ["192.%d.%d.0/24" % (168 + i // 256, i % 256) for i in range(4000)]
json.dump(doc, open(sys.argv[2] + "/exports-4000.json", "w"))
conn["local"]["prefixes"].append("198.18.0.0/24")
json.dump(doc, open(sys.argv[2] + "/exports-4001.json", "w"))
PY
"$ergw" policy check "$tmp/exports-4000.json" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] || fail "exports-4000.json: exit $rc: $(grep error "$tmp/err" | head -3)"
"$ergw" policy check "$tmp/exports-4001.json" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "exports-4001.json: exit $rc"
grep -q '^error: .*local.prefixes: 4001 prefixes' "$tmp/err" || fail "exports-4001.json: limit not refused"

# An invalid enum value is one error among all the others of the same file,
# and the policy still counts as set (no "no custom policy" warning); a NAT
# rule's warning names the field that is set.
python3 - "$src/examples/lab.json" "$tmp" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
props = doc["connections"][0]["azure"]["properties"]
policy = props["ipsecPolicies"][0]
policy["dhGroup"] = "DHGroup99"
policy["ipsecEncryption"] = "GCMAES256"
policy["ipsecIntegrity"] = "SHA256"
props["dpdTimeoutSeconds"] = 5
props["ingressNatRules"] = [{"id": "/subscriptions/x/natRules/in1"}]
json.dump(doc, open(sys.argv[2] + "/enum.json", "w"))
PY
"$ergw" policy check "$tmp/enum.json" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "enum.json: exit $rc"
grep -q '^error: .*dhGroup: .*DHGroup99' "$tmp/err" || fail "enum.json: no dhGroup error: $(cat "$tmp/err")"
grep -q '^error: .*ipsecIntegrity' "$tmp/err" || fail "enum.json: the GCM rule error is hidden by the bad enum"
grep -q '^error: .*dpdTimeoutSeconds' "$tmp/err" || fail "enum.json: the DPD error is hidden by the bad enum"
grep -q 'no custom policy' "$tmp/err" && fail "enum.json: wrong 'no custom policy' warning"
grep -q '^warning: .*ingressNatRules: .*ergw does no NAT' "$tmp/err" || fail "enum.json: NAT warning not on ingressNatRules"
grep -q 'egressNatRules' "$tmp/err" && fail "enum.json: NAT warning names egressNatRules, which is not set"
grep -q '3 error(s)' "$tmp/err" || fail "enum.json: expected 3 errors: $(tail -1 "$tmp/err")"

# Not JSON at all, and a missing file.
echo '{ "connections": [' >"$tmp/broken.json"
"$ergw" policy check "$tmp/broken.json" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "broken.json: exit $rc"
grep -q 'not valid JSON' "$tmp/err" || fail "broken.json: no JSON error"
"$ergw" policy check "$tmp/nope.json" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "missing file: exit $rc"

echo "cli_test: $failures failure(s)"
[ $failures -eq 0 ]
