# shellcheck shell=bash
# The baseline for bench/run: strongSwan's charon with kernel-libipsec
# (userspace ESP over a TUN, always ESP-in-UDP) in the two gateway namespaces
# of the fast-path lab, PSK IKEv2, with the same charon configuration the
# fast path gets (tests/xfrm/charon/ike_lab.sh) except the kernel backend.
# Needs lab_topology.sh and ike_lab.sh sourced first.

# libipsec_start ESP_PROPOSAL: e.g. aes256gcm16 or aes256-sha256. Returns when
# the CHILD_SA carries traffic.
libipsec_start() {
  local esp=$1 side
  IKE_PSK=$(openssl rand -base64 32)
  rm -rf "$LAB_DIR/charon-gwa" "$LAB_DIR/charon-gwb"  # a stale vici socket would fool the wait
  for side in gwa gwb; do
    IKE_INSTALL_ROUTES=yes ike_write_config "$side" "$esp" "kernel-libipsec kernel-netlink"
    ike_start_charon "$side" || return 1
  done
  # The same placement as the fast path gets (LAB_CPUS_gwa/gwb): every charon
  # thread, kernel-libipsec's TUN reader and ESP workers included, on its
  # gateway's CPU. It was libipsec's best of the placements tried (docs/fastpath.md).
  local cpus_var pid_var
  for side in gwa gwb; do
    cpus_var=LAB_CPUS_$side pid_var=IKE_CHARON_PID_$side
    if [ -n "${!cpus_var:-}" ]; then
      taskset -a -p -c "${!cpus_var}" "${!pid_var}" >/dev/null ||
        echo "libipsec: could not pin $side to CPUs ${!cpus_var}"
    fi
  done
  ike_swanctl gwa --initiate --child lab --timeout 15 >"$LAB_DIR/initiate.out" 2>&1 || {
    echo "libipsec: initiate failed:"; tail -5 "$LAB_DIR/initiate.out"; return 1; }
  # Routes into ipsec0 appear a moment after the CHILD_SA.
  ike_wait_traffic 50 || { echo "libipsec: no traffic through the tunnel"; return 1; }
}

libipsec_stop() {
  lab_stop "$IKE_CHARON_PID_gwa"
  lab_stop "$IKE_CHARON_PID_gwb"
}
