# shellcheck shell=bash
# The fast path in bench/run: on both gateways charon with the ergw-ipsec
# plugin and ergw-fastpath, SAs negotiated by IKE (no static SA file), PSK
# IKEv2. IKE_ENCAP=yes makes charon use ESP-in-UDP on 4500 (shared with IKE,
# as kernel-libipsec always does); no makes it raw ESP (protocol 50, the
# Azure-over-ExpressRoute case). Needs lab_topology.sh and
# tests/xfrm/charon/ike_lab.sh sourced, ERGW_BIN and ERGW_PLUGIN_DIR set.

# fastpath_ike_start ESP_PROPOSAL: returns when traffic passes.
fastpath_ike_start() {
  local esp=$1 side
  IKE_PSK=$(openssl rand -base64 32)
  rm -rf "$LAB_DIR/charon-gwa" "$LAB_DIR/charon-gwb"
  for side in gwa gwb; do
    IKE_INSTALL_ROUTES=no ike_write_config "$side" "$esp" "ergw-ipsec kernel-netlink"
    ike_start_fastpath "$side" --keepalive 0 || return 1
  done
  for side in gwa gwb; do ike_start_charon "$side" || return 1; done
  ike_swanctl gwa --initiate --child lab --timeout 15 >"$LAB_DIR/initiate.out" 2>&1 || {
    echo "fast path (IKE): initiate failed:"; tail -5 "$LAB_DIR/initiate.out"; return 1; }
  ike_wait_traffic 50 || { echo "fast path (IKE): no traffic through the tunnel"; return 1; }
}

fastpath_ike_stop() {
  local side pid
  for side in gwa gwb; do
    for pid in IKE_CHARON_PID_$side IKE_FASTPATH_PID_$side; do
      [ -n "${!pid:-}" ] && lab_stop "${!pid}"
      eval "$pid="
    done
  done
}

# cleartext_start: two ergw-fastpath with static SAs using the null transform
# (ESP framing, no crypto) over UDP: the same namespaces, hops and I/O as the
# fast path, so the difference to it is what ESP's crypto costs end to end.
cleartext_start() {
  lab_write_sa_files gcm udp 4
  local side
  for side in gwa gwb; do
    python3 - "$LAB_DIR/$side.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for sa in doc["sas"]:
    sa.pop("aead", None)
    sa["enc"] = {"name": "ecb(cipher_null)"}
json.dump(doc, open(sys.argv[1], "w"))
PY
  done
  # The MTU the IKE fast path gets (--mtu auto before any SA: the worst case).
  LAB_MTU=1387 lab_start_fastpaths "$ERGW_BIN/ergw-fastpath" --keepalive 0 --unsafe-null-transform
}

cleartext_stop() {
  lab_stop "$LAB_PID_gwa"
  lab_stop "$LAB_PID_gwb"
}
