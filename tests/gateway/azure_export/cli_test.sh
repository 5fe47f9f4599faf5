#!/usr/bin/env bash
# ergw azure export: exit codes, the three formats, the PSK only when asked
# for, the az script run against a stand-in for az, and the round trip: the exported ARM template, fed back into
# `ergw policy compile` in place of the Azure objects, compiles to the same
# swanctl.conf (the same proposals) for every golden policy.
# usage: cli_test.sh ERGW SOURCE_DIR
set -u
ergw=$1 src=$2
golden=$src/tests/gateway/policy/golden
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
key=GoldenTestKey0123456789abcdefXYZ

# Default: an az script, no PSK anywhere, diagnostics on stderr only.
"$ergw" azure export -g rg-net --vnet-gateway gw-hub "$golden/gcmaes256-ecp384.json" >"$tmp/az.sh" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] || fail "export az exited $rc: $(cat "$tmp/err")"
head -1 "$tmp/az.sh" | grep -q '^#!/usr/bin/env bash' || fail "az: not a bash script"
grep -q 'az network vpn-connection ipsec-policy add' "$tmp/az.sh" || fail "az: no ipsec-policy add"
grep -q -- '--shared-key "$SHARED_KEY_HUB"' "$tmp/az.sh" || fail "az: the PSK is not a variable reference"
grep -q "$key" "$tmp/az.sh" "$tmp/err" && fail "az: the PSK leaked"
bash -n "$tmp/az.sh" || fail "az: bash cannot parse the script"
# Without SHARED_KEY_HUB the script stops before calling az (az is not even needed).
( cd "$tmp" && PATH=/nonexistent RESOURCE_GROUP=rg /bin/bash "$tmp/az.sh" ) >"$tmp/run.out" 2>&1 && fail "az: ran without a PSK"
grep -q 'SHARED_KEY_HUB' "$tmp/run.out" || fail "az: the missing PSK is not named: $(cat "$tmp/run.out")"

"$ergw" azure export --format az --json "$golden/gcmaes256-ecp384.json" >"$tmp/az.json" 2>"$tmp/err" ||
  fail "export az --json failed: $(cat "$tmp/err")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["commands"][0]["argv"][:4]==["az","network","local-gateway","create"]' \
  "$tmp/az.json" || fail "az --json: not the expected JSON"

"$ergw" azure export --format bicep "$golden/gcmaes256-ecp384.json" >"$tmp/out.bicep" 2>"$tmp/err" ||
  fail "export bicep failed: $(cat "$tmp/err")"
grep -q "resource connection_hub 'Microsoft.Network/connections@" "$tmp/out.bicep" || fail "bicep: no connection"
grep -q "$key" "$tmp/out.bicep" && fail "bicep: the PSK leaked"
"$ergw" azure export --format bicep --json "$golden/gcmaes256-ecp384.json" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "bicep --json: exit $rc, expected 2"
grep -q '^error: --json' "$tmp/err" || fail "bicep --json: error does not name --json"

"$ergw" azure export --format arm "$golden/gcmaes256-ecp384.json" >"$tmp/arm.json" 2>"$tmp/err" ||
  fail "export arm failed"
grep -q "$key" "$tmp/arm.json" && fail "arm: the PSK leaked"
grep -q '"securestring"' "$tmp/arm.json" || fail "arm: no securestring parameter"

# Asked for: the PSK appears, once, where Azure takes it.
"$ergw" azure export --include-shared-key "$golden/gcmaes256-ecp384.json" >"$tmp/az-key.sh" 2>/dev/null
[ "$(grep -c "$key" "$tmp/az-key.sh")" -eq 1 ] || fail "--include-shared-key: the PSK is not there exactly once"
grep -q -- "--shared-key $key" "$tmp/az-key.sh" || fail "--include-shared-key: not in --shared-key"

# What Azure cannot express: exit 2, the field named, nothing on stdout.
python3 - "$golden/gcmaes256-ecp384.json" "$tmp/no-prefixes.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
del d["connections"][0]["local"]["prefixes"]
json.dump(d, open(sys.argv[2], "w"))
PY
"$ergw" azure export "$tmp/no-prefixes.json" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "no prefixes: exit $rc, expected 2"
[ -s "$tmp/out" ] && fail "no prefixes: something on stdout"
grep -q '^error: connections\[0\].local.prefixes' "$tmp/err" || fail "no prefixes: field not named: $(cat "$tmp/err")"
"$ergw" azure export "$src/examples/azure/connection-arm.json" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "bare object: exit $rc, expected 2"
grep -q 'error: local.address' "$tmp/err" || fail "bare object: local.address not named"
"$ergw" azure export --vnet-gateway nope=gw "$golden/gcmaes256-ecp384.json" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "unknown connection: exit $rc"
grep -q '"nope" is not a connection' "$tmp/err" || fail "unknown connection not named"

# The script run for real against a stand-in for az (Azure's CLI needs an Azure
# account, which this machine has not): the stand-in records each argv as JSON
# and answers `vnet-gateway show --query` like a gateway that meets the checks
# (or, with FAKE_AZ_PRIVATE_IP=false, one without private IPs). This checks the
# script's shell quoting word by word, and that a failed check stops it before
# anything is created.
mkdir -p "$tmp/fakebin"
cat >"$tmp/fakebin/az" <<'FAKE'
#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_AZ_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
if args[:3] == ["network", "vnet-gateway", "show"]:
    query = args[args.index("--query") + 1]
    if query == "id":
        print("/subscriptions/s/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworkGateways/" +
              args[args.index("--name") + 1])
    elif query == "bgpSettings.asn":
        print("65515")
    elif query == "enablePrivateIpAddress":
        print(os.environ.get("FAKE_AZ_PRIVATE_IP", "true"))
    else:
        print("true")
FAKE
chmod +x "$tmp/fakebin/az"
"$ergw" azure export -g rg-net --vnet-gateway "gw-hub" -q "$golden/active-active-bgp-apipa.json" >"$tmp/aa.sh" 2>/dev/null
( export PATH="$tmp/fakebin:$PATH" FAKE_AZ_LOG="$tmp/az.log" SHARED_KEY_HUB="$key"; bash "$tmp/aa.sh" ) \
  >"$tmp/run.out" 2>&1 || fail "az script with the stand-in failed: $(cat "$tmp/run.out")"
python3 - "$tmp/az.log" "$key" <<'PY' || fail "az script: the commands az received are not the expected ones"
import json, sys
calls = [json.loads(line) for line in open(sys.argv[1])]
key = sys.argv[2]
def find(prefix):
    found = [c for c in calls if c[:len(prefix)] == prefix]
    assert len(found) == 1, (prefix, found)
    return found[0]
lng = find(["network", "local-gateway", "create"])
assert lng == ["network", "local-gateway", "create", "--resource-group", "rg-net", "--name", "lgw-hub",
               "--gateway-ip-address", "172.16.0.1", "--asn", "65010", "--bgp-peering-address", "169.254.21.2"], lng
conn = find(["network", "vpn-connection", "create"])
assert conn[conn.index("--shared-key") + 1] == key and "--enable-bgp" in conn, conn
update = find(["network", "vpn-connection", "update"])
sets = update[update.index("--set") + 1:]
gw = "/subscriptions/s/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworkGateways/gw-hub"
assert sets[:3] == ["connectionMode=ResponderOnly", "dpdTimeoutSeconds=45", "useLocalAzureIpAddress=true"], sets
name, value = sets[3].split("=", 1)
assert name == "gatewayCustomBgpIpAddresses", sets
assert json.loads(value) == [{"ipConfigurationId": gw + "/ipConfigurations/ipconfig1", "customBgpIpAddress": "169.254.21.1"},
                             {"ipConfigurationId": gw + "/ipConfigurations/ipconfig2", "customBgpIpAddress": "169.254.22.1"}], value
policy = find(["network", "vpn-connection", "ipsec-policy", "add"])
flags = dict(zip(policy[4::2], policy[5::2]))
assert flags == {"--resource-group": "rg-net", "--connection-name": "hub-conn", "--ike-encryption": "GCMAES256",
                 "--ike-integrity": "SHA384", "--dh-group": "ECP384", "--ipsec-encryption": "GCMAES256",
                 "--ipsec-integrity": "GCMAES256", "--pfs-group": "PFSMM", "--sa-lifetime": "27000",
                 "--sa-max-size": "102400000"}, flags
PY
grep -q "$key" "$tmp/run.out" && fail "az script: the PSK appeared in the script's output"
rm -f "$tmp/az.log"
( export PATH="$tmp/fakebin:$PATH" FAKE_AZ_LOG="$tmp/az.log" SHARED_KEY_HUB="$key" FAKE_AZ_PRIVATE_IP=false
  bash "$tmp/aa.sh" ) >"$tmp/run.out" 2>&1 && fail "az script ran on although the gateway has no private IPs"
grep -q "enablePrivateIpAddress is 'false', must be 'true'" "$tmp/run.out" ||
  fail "az script: the failed check is not explained: $(cat "$tmp/run.out")"
grep -q '"create"' "$tmp/az.log" && fail "az script: created something although a gateway check failed"

# The round trip, for every golden policy, each connection mode, static and BGP.
rebuild() {  # original.json template.json out.json
  python3 - "$@" <<'PY'
import json, sys
original, template = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
res = {(r["type"], r["name"]): r for r in template["resources"]}
for c in original["connections"]:
    name = c["azure"].get("name", c["name"])
    conn = res[("Microsoft.Network/connections", name)]
    c["azure"] = conn
    c["localNetworkGateway"] = res[("Microsoft.Network/localNetworkGateways", "lgw-" + c["name"])]
    for k in ("sharedKeyFile", "ipsecPolicy"):
        c.pop(k, None)
    for k in ("address", "asn", "bgpPeeringAddress"):
        c["local"].pop(k, None)
    if not conn["properties"]["enableBgp"]:
        c["local"].pop("prefixes", None)
json.dump(original, open(sys.argv[3], "w"), indent=1)
PY
}
variants=0
for f in "$golden"/*.json; do
  for mode in Default InitiatorOnly ResponderOnly; do
    for bgp in false true; do
      python3 - "$f" "$tmp/in.json" "$mode" "$bgp" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["connections"][0]["azure"]["properties"]
p["connectionMode"] = sys.argv[3]
p["enableBgp"] = sys.argv[4] == "true"
json.dump(d, open(sys.argv[2], "w"))
PY
      "$ergw" policy compile --show-secrets -q "$tmp/in.json" >"$tmp/before.conf" 2>/dev/null || continue
      what="$(basename "$f" .json) $mode bgp=$bgp"
      if ! "$ergw" azure export --format arm --include-shared-key -q "$tmp/in.json" >"$tmp/t.json" 2>"$tmp/err"; then
        fail "$what: export failed: $(cat "$tmp/err")"
        continue
      fi
      rebuild "$tmp/in.json" "$tmp/t.json" "$tmp/back.json" || { fail "$what: cannot rebuild"; continue; }
      if ! "$ergw" policy compile --show-secrets -q "$tmp/back.json" >"$tmp/after.conf" 2>"$tmp/err"; then
        fail "$what: the exported template does not compile: $(grep error "$tmp/err")"
        continue
      fi
      diff -u "$tmp/before.conf" "$tmp/after.conf" >"$tmp/diff" || fail "$what: compiles differently: $(cat "$tmp/diff")"
      grep -q 'proposals = ' "$tmp/after.conf" || fail "$what: no proposals"
      variants=$((variants + 1))
    done
  done
done
echo "round trip: $variants variants compiled identically"
[ $variants -ge 30 ] || fail "only $variants round-trip variants ran"

echo "cli_test: $failures failure(s)"
[ $failures -eq 0 ]
