#!/usr/bin/env bash
# Who gets kernel-ipsec is decided by load order: the first plugin that
# provides it wins. ergw-ipsec before kernel-netlink: the fast path gets the
# SAs, kernel-netlink keeps kernel-net. kernel-netlink first: charon unloads
# ergw-ipsec (it provides nothing else) and installs SAs with XFRM, which
# this kernel cannot carry (no kernel ESP here: the CHILD_SA fails, and says so).
source "$(dirname "$0")/ike_common.sh"
ike_skip_unless_ready
trap 'ike_dump_logs; lab_cleanup' EXIT
lab_create >/dev/null || exit 1
IKE_PSK=$(openssl rand -base64 32)
ike_write_config gwb aes256gcm16
ike_start_charon gwb || exit 1

run_order() {  # run_order "KERNEL PLUGINS" -> charon gwA with that order tries the tunnel
  IKE_INSTALL_ROUTES=no ike_write_config gwa aes256gcm16 "$1"
  : >"$LAB_DIR/charon-gwa/charon.log"
  ike_start_fastpath gwa --keepalive 0 || exit 1
  ike_start_charon gwa || exit 1
  ike_swanctl gwa --initiate --child lab --timeout 10 >"$LAB_DIR/initiate.out" 2>&1
  initiated=$?
  lab_stop "$IKE_CHARON_PID_gwa"
  lab_stop "$IKE_FASTPATH_PID_gwa"
  ike_swanctl gwb --terminate --ike lab --force --timeout 2 >/dev/null 2>&1
}

run_order "ergw-ipsec kernel-netlink"
check "ergw-ipsec before kernel-netlink: both stay loaded" \
  grep -q 'loaded plugins: .*ergw-ipsec kernel-netlink' "$LAB_DIR/charon-gwa/charon.log"
check "ergw-ipsec before kernel-netlink: the CHILD_SA is established" eq "$initiated" 0
check "ergw-ipsec before kernel-netlink: the fast path received the SAs" grep -q 'sa added' "$LAB_DIR/fastpath-gwa.log"

run_order "kernel-netlink ergw-ipsec"
# charon unloads a plugin whose features all went to others: it is missing
# from the list of loaded plugins.
check "kernel-netlink first: charon unloads ergw-ipsec (not among the loaded plugins)" \
  bash -c "grep -q 'loaded plugins: .*kernel-netlink' '$LAB_DIR/charon-gwa/charon.log' &&
           ! grep -q 'loaded plugins: .*ergw-ipsec' '$LAB_DIR/charon-gwa/charon.log'"
check "kernel-netlink first: the fast path received nothing" bash -c "! grep -q 'sa added' '$LAB_DIR/fastpath-gwa.log'"
if grep -q 'unable to add SAD entry' "$LAB_DIR/charon-gwa/charon.log"; then
  echo "info: kernel-netlink first: charon tried XFRM, which this kernel ($(uname -r)) refuses (no kernel ESP)"
fi
echo "$failures failure(s)"
[ "$failures" -eq 0 ] && trap lab_cleanup EXIT
[ "$failures" -eq 0 ]
