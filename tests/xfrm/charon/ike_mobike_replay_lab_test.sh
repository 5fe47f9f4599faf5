#!/usr/bin/env bash
# An SA that MOBIKE moved survives a restart of the fast path: charon with the
# ergw-ipsec plugin and ergw-fastpath on both gateways (kernel-libipsec cannot
# move an SA to another address; charon would rekey it instead, and the SA
# that was moved would be gone before the restart). gwB initiates (only the
# initiator of an IKE SA may move it, RFC 4555 3.5) and then moves from
# 172.16.0.2 to 172.16.0.3; gwA's charon calls update_sa for its SAs.
# gwA's fast path is then SIGKILLed and started again: the plugin must replay
# the outbound SA at gwB's new address, where the fast path keeps its sequence
# numbers, so that it resumes past every number it used. Replayed at the old
# address and moved after, it would start again at 1 with a new IV seed, and
# gwB's replay window would drop what it sends.
source "$(dirname "$0")/ike_common.sh"
ike_skip_unless_ready
trap 'ike_dump_logs; lab_cleanup' EXIT

IKE_PSK=$(openssl rand -base64 32)
lab_create >/dev/null || exit 1
IKE_INSTALL_ROUTES=no ike_write_config gwa aes256gcm16
IKE_INSTALL_ROUTES=no ike_write_config gwb aes256gcm16 "ergw-ipsec kernel-netlink"
ike_start_fastpath gwa --keepalive 2 || exit 1
ike_start_fastpath gwb --keepalive 2 || exit 1
ike_start_charon gwa || exit 1
ike_start_charon gwb || exit 1
ike_swanctl gwb --initiate --child lab --timeout 15 >"$LAB_DIR/initiate.out" 2>&1
check "gwB brought the tunnel up, both sides on the fast path" ike_wait_traffic 50

children_before=$(ike_children gwa)
lab_sysctl "$LAB_GWB" net.ipv4.conf.out0.promote_secondaries=1
# Without its IPv6 address, MOBIKE's path checks cannot pick fd16::2 instead.
lab_in "$LAB_GWB" ip -6 addr flush dev out0 scope global
lab_in "$LAB_GWB" ip addr add 172.16.0.3/24 dev out0
# charon coalesces address events for 100 ms into one roam check: one that
# still saw 172.16.0.2 would keep the path. The old address goes later.
sleep 1
lab_in "$LAB_GWB" ip addr del 172.16.0.2/24 dev out0
# charon roams at once; a lost UPDATE_SA_ADDRESSES is retransmitted after 2 s,
# then 3.6 s, then 6.5 s (retransmit_timeout 2, base 1.8).
moved=never start=$(date +%s.%N)
for _ in $(seq 1 150); do
  if ike_swanctl gwa --list-sas 2>/dev/null | grep -qF '@ 172.16.0.3['; then
    moved=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'); break
  fi
  sleep 0.2
done
check "gwB moved to 172.16.0.3 by MOBIKE; gwA's charon followed after $moved s" test "$moved" != never
check "gwA's fast path moved its outbound SA (update_sa)" \
  grep -qE 'sa updated spi 0x[0-9a-f]+ now 172.16.0.1 -> 172.16.0.3' "$LAB_DIR/fastpath-gwa.log"
check "traffic flows to gwB's new address" ike_wait_traffic 50
check "the CHILD_SA was moved, not rekeyed (same SPIs)" eq "$children_before" "$(ike_children gwa)"
# More packets than the sequence restart would take to get past gwB's window.
lab_in "$LAB_ONPREM" ping -q -c 300 -i 0.005 -W 1 10.0.2.10 >/dev/null 2>&1
sleep 1.5  # the fast path writes its sequence numbers once a second

ike_restart_fastpath_gwa || exit 1
check "traffic back ${back_after} s after the fast path restarted (<= 5 s)" traffic_back_within_5s
check "the outbound SA was replayed at gwB's new address" \
  grep -qE 'sa added out spi 0x[0-9a-f]+ .* 172.16.0.1 -> 172.16.0.3 (esp|udp) \(replayed' "$LAB_DIR/fastpath-gwa.log"
check "nothing was replayed at gwB's old address" \
  bash -c "! grep -q -- '-> 172.16.0.2 .*(replayed' '$LAB_DIR/fastpath-gwa.log'"
seq_out=$(ike_fastpath_counters gwa | grep -E '^counters sa=.* dir=out' | sed -n 's/.* sequence=\([0-9]*\).*/\1/p' | head -1)
check "outbound resumed past the recorded sequence numbers (now $seq_out >= 2^24)" ge "${seq_out:-0}" 16777216
check "traffic keeps flowing" lab_in "$LAB_ONPREM" ping -c 5 -i 0.2 -W 1 10.0.2.10

echo "$failures failure(s)"
[ "$failures" -eq 0 ] && trap lab_cleanup EXIT
[ "$failures" -eq 0 ]
