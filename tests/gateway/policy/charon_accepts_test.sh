#!/usr/bin/env bash
# A real charon (strongSwan 5.9.8, in its own network and mount namespace)
# loads every golden configuration - ergw's side (ergw policy compile) and
# the lab's simulated Azure gateway (ergw-lab azure-side, beside ergw) - and
# a configuration for every value of every
# algorithm field Azure allows (one field varied at a time), without a single
# error. A value ergw itself refuses (dhGroup None, GCM ikeIntegrity) is
# expected to be refused by `ergw policy check`, and is.
# usage: charon_accepts_test.sh ERGW GOLDEN_DIR       (needs root)
set -u
ergw=$1 golden=$2
ergw_lab=$(dirname "$ergw")/ergw-lab
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root for network namespaces"; exit 0; fi
ns=ergw-ca-$$
state=$(mktemp -d /tmp/ergw-ca.XXXXXX)
cleanup() {
  [ -f "$state/charon.pid" ] && kill "$(cat "$state/charon.pid")" 2>/dev/null
  sleep 0.2
  ip netns del "$ns" 2>/dev/null
  rm -rf "$state"
}
trap cleanup EXIT INT TERM
ip netns add "$ns"
ip -n "$ns" link set lo up
# Addresses the configurations name, so charon can bind and route them.
# (no dummy interfaces in every kernel: a veth pair inside the namespace)
ip -n "$ns" link add ca0 type veth peer name ca1 && ip -n "$ns" link set ca0 up && ip -n "$ns" link set ca1 up
for a in 172.16.0.1/24 172.16.0.2/24 172.16.0.3/24; do ip -n "$ns" addr add "$a" dev ca0; done
cat >"$state/strongswan.conf" <<CONF
charon {
  load = random nonce openssl pem pkcs1 x509 revocation constraints pubkey kdf aes sha1 sha2 hmac gcm kernel-libipsec kernel-netlink socket-default vici updown
  install_routes = no
  filelog { log { path = $state/charon.log
    default = 1 } }
  plugins { vici { socket = unix://$state/charon.vici } }
}
CONF
ip netns exec "$ns" unshare -m sh -c "mount -t tmpfs none /run && mkdir -p /run/strongswan && \
  STRONGSWAN_CONF=$state/strongswan.conf exec /usr/lib/ipsec/charon" >"$state/stdout" 2>&1 &
echo $! >"$state/charon.pid"
for _ in $(seq 100); do [ -S "$state/charon.vici" ] && break; sleep 0.1; done
[ -S "$state/charon.vici" ] || { echo "FAIL: charon did not start"; cat "$state/stdout" "$state/charon.log"; exit 1; }

# One configuration per value of each algorithm field, the others held at a
# valid combination (GCM IPsec values go in pairs: Azure's GCM rule).
mkdir -p "$state/values"
python3 - "$golden/gcmaes256-ecp384.json" "$state/values" <<'PY'
import copy, json, sys
base = json.load(open(sys.argv[1]))
fields = {
    "ikeEncryption": ["DES", "DES3", "AES128", "AES192", "AES256", "GCMAES256", "GCMAES128"],
    "ikeIntegrity": ["MD5", "SHA1", "SHA256", "SHA384", "GCMAES256", "GCMAES128"],
    "dhGroup": ["None", "DHGroup1", "DHGroup2", "DHGroup14", "DHGroup2048", "ECP256", "ECP384", "DHGroup24"],
    "ipsecEncryption": ["None", "DES", "DES3", "AES128", "AES192", "AES256", "GCMAES128", "GCMAES192", "GCMAES256"],
    "ipsecIntegrity": ["MD5", "SHA1", "SHA256", "GCMAES128", "GCMAES192", "GCMAES256"],
    "pfsGroup": ["None", "PFS1", "PFS2", "PFS2048", "ECP256", "ECP384", "PFS24", "PFS14", "PFSMM"],
}
for field, values in fields.items():
    for value in values:
        doc = copy.deepcopy(base)
        policy = doc["connections"][0]["azure"]["properties"]["ipsecPolicies"][0]
        policy.update({"ikeEncryption": "AES256", "ikeIntegrity": "SHA256", "dhGroup": "ECP256",
                       "ipsecEncryption": "AES256", "ipsecIntegrity": "SHA256", "pfsGroup": "ECP256"})
        policy[field] = value
        if field == "ipsecEncryption" and value.startswith("GCM"):
            policy["ipsecIntegrity"] = value
        if field == "ipsecIntegrity" and value.startswith("GCM"):
            policy["ipsecEncryption"] = value
        if field == "ikeIntegrity" and value.startswith("GCM"):
            policy["ikeEncryption"] = value
        json.dump(doc, open(f"{sys.argv[2]}/{field}-{value}.json", "w"))
PY
refused_by_ergw() { case "$1" in dhGroup-None|ikeIntegrity-GCMAES*) return 0;; esac; return 1; }

failures=0 loaded=0
for input in "$state"/values/*.json; do
  name=$(basename "$input" .json)
  if refused_by_ergw "$name"; then
    if "$ergw" policy check --quiet "$input" >/dev/null 2>&1; then
      echo "FAIL: $name: ergw accepted a value it must refuse"; failures=$((failures+1))
    else
      echo "ok: $name: refused by ergw (as documented)"
    fi
    continue
  fi
  conf=$state/$name.conf
  "$ergw" policy compile --quiet --show-secrets "$input" >"$conf" 2>"$state/$name.err" ||
    { echo "FAIL: $name: ergw refused it: $(cat "$state/$name.err")"; failures=$((failures+1)); continue; }
  out=$(swanctl --load-all --noprompt --file "$conf" --uri "unix://$state/charon.vici" 2>&1 |
        grep -v -e "^plugin '" -e "^opening directory")
  if ! grep -q 'successfully loaded 1 connections' <<<"$out" || grep -qiE 'failed|error|invalid' <<<"$out"; then
    echo "FAIL: $name: charon refused it:"; echo "$out"; failures=$((failures+1))
  else
    loaded=$((loaded+1))
    echo "ok: $name: $(grep -E '^ *(proposals|esp_proposals) =' "$conf" | tr -s ' ' | tr '\n' ' ')"
  fi
done

for input in "$golden"/*.json; do
  for side in ergw azure; do
    name=$(basename "$input" .json)-$side
    conf=$state/$name.conf
    if [ $side = ergw ]; then
      "$ergw" policy compile --quiet --show-secrets "$input" >"$conf" 2>"$state/$name.err"
    else
      "$ergw_lab" azure-side --show-secrets "$input" >"$conf" 2>"$state/$name.err"
    fi ||
      { echo "FAIL: $name: refused: $(cat "$state/$name.err")"; failures=$((failures+1)); continue; }
    # swanctl's own plugin and credential-directory chatter is not about the file.
    out=$(swanctl --load-all --noprompt --file "$conf" --uri "unix://$state/charon.vici" 2>&1 |
          grep -v -e "^plugin '" -e "^opening directory")
    if ! grep -q 'successfully loaded' <<<"$out" || grep -qiE 'failed|error' <<<"$out"; then
      echo "FAIL: $name: charon refused it:"; echo "$out"; failures=$((failures+1))
    else
      loaded=$((loaded+1))
      echo "ok: $name: $(grep -c 'loaded connection' <<<"$out") connection(s) loaded"
    fi
    # Leave nothing loaded for the next configuration.
    for c in $(swanctl --list-conns --raw --uri "unix://$state/charon.vici" 2>/dev/null | sed -n 's/^list-conn event {\([^ ]*\) .*/\1/p'); do
      swanctl --unload-conn --name "$c" --uri "unix://$state/charon.vici" >/dev/null 2>&1 || true
    done
  done
done
echo "charon_accepts: $loaded loaded, $failures failure(s)"
[ $failures -eq 0 ] && [ $loaded -gt 0 ]
