#!/usr/bin/env bash
# Crashes under IKE (charon with the ergw-ipsec plugin + ergw-fastpath on gwA,
# charon with kernel-libipsec on gwB):
#  1. ergw-fastpath SIGKILLed and started again: the plugin replays its SAs and
#     policies, traffic is back within 5 s, and IKE is not renegotiated (same
#     IKE and CHILD SPIs); outbound resumes past every sequence number used.
#  2. ergw-fastpath hung (SIGSTOP): charon's calls fail after the timeout
#     instead of hanging; after SIGCONT everything works again.
#  3. charon SIGKILLed: the fast path keeps forwarding on the installed SAs
#     (no ping lost); a new charon brings the tunnel back.
source "$(dirname "$0")/ike_common.sh"
ike_skip_unless_ready
trap 'ike_dump_logs; lab_cleanup' EXIT
ike_up aes256gcm16 || { echo "FAIL - tunnel did not come up"; exit 1; }
echo "ok   - tunnel up through ergw-fastpath"

# The CHILD_SA's counters as charon reports them (its query_sa), one
# "name=value" per line: bytes-in, bytes-out, packets-in, packets-out.
ike_child_counters() {
  ike_swanctl gwa --list-sas --raw 2>/dev/null | grep -oE '(bytes|packets)-(in|out)=[0-9]+' | sort
}
# never_fell BEFORE AFTER: every counter in AFTER is at least its value in BEFORE.
never_fell() {
  awk -F= 'NR == FNR { before[$1] = $2; next } ($1 in before) { seen++; if ($2 + 0 < before[$1] + 0) { print "fell: " $1 " " before[$1] " -> " $2; bad = 1 } }
           END { exit bad || seen < 4 }' <(echo "$1") <(echo "$2")
}

ike_spis() { ike_swanctl gwa --list-sas --raw 2>/dev/null | grep -oE '(initiator-spi|responder-spi|spi-in|spi-out)=[0-9a-f]+' | sort | tr '\n' ' '; }

# ---- 1. the fast path is killed and comes back ------------------------------
spis_before=$(ike_spis)
# Enough traffic that a fast path counting again from zero would report less.
lab_in "$LAB_ONPREM" ping -q -c 300 -i 0.005 -s 1000 -W 1 10.0.2.10 >/dev/null 2>&1
ping_start 0.1
sleep 1
counters_before=$(ike_child_counters)  # charon asks the fast path (query_sa)
ike_restart_fastpath_gwa 1 || exit 1
ping_stop
check "traffic back ${back_after} s after the fast path restarted (<= 5 s)" traffic_back_within_5s
check "the plugin replayed the SAs (fast path log)" grep -q 'sa added .*(replayed' "$LAB_DIR/fastpath-gwa.log"
check "charon logged the replay" grep -q 'fast path restarted; replayed 2 SAs' "$LAB_DIR/charon-gwa/charon.log"
spis_after=$(ike_spis)
check "no IKE renegotiation: IKE and CHILD SPIs unchanged" eq "$spis_before" "$spis_after"
check "traffic keeps flowing after the restart" lab_in "$LAB_ONPREM" ping -c 5 -i 0.2 -W 1 10.0.2.10
counters_after=$(ike_child_counters)
echo "info: charon's CHILD_SA counters before the kill: $(echo $counters_before); after the restart: $(echo $counters_after)"
check "charon's SA counters (query_sa) did not fall across the fast-path restart" \
  never_fell "$counters_before" "$counters_after"
check "the replay carried the counters charon had seen" grep -q 'sa added .*(replayed, charon had seen [1-9]' "$LAB_DIR/fastpath-gwa.log"
seq_out=$(ike_fastpath_counters gwa | grep -E '^counters sa=.* dir=out' | sed -n 's/.* sequence=\([0-9]*\).*/\1/p' | head -1)
check "outbound resumed past the recorded sequence numbers (now $seq_out >= 2^24)" ge "${seq_out:-0}" 16777216
echo "info: pings during the outage: sent $sent, received $received"

# ---- 2. the fast path hangs: charon must not ------------------------------------
kill -STOP "$IKE_FASTPATH_PID_gwa"
start=$(date +%s)
timeout 30 swanctl --list-sas --uri "unix://$LAB_DIR/charon-gwa/charon.vici" >"$LAB_DIR/list-hung.out" 2>&1
took=$(( $(date +%s) - start ))
check "swanctl --list-sas answered in ${took} s while the fast path hung (timeout 1 s per call)" le "$took" 8
check "charon logged the failed call clearly" grep -q 'ergw-ipsec: query_sa failed: the fast path does not answer' "$LAB_DIR/charon-gwa/charon.log"
kill -CONT "$IKE_FASTPATH_PID_gwa"
sleep 1
check "after SIGCONT traffic flows" lab_in "$LAB_ONPREM" ping -c 3 -i 0.2 -W 1 10.0.2.10
check "after SIGCONT charon's calls work (counters read)" \
  bash -c "swanctl --list-sas --uri unix://$LAB_DIR/charon-gwa/charon.vici | grep -qE 'in  [0-9a-f]+, +[1-9][0-9]* bytes'"

# ---- 3. charon is killed: forwarding goes on ----------------------------------
ping_start 0.02
sleep 1
kill -KILL "$IKE_CHARON_PID_gwa"
wait "$IKE_CHARON_PID_gwa" 2>/dev/null
sleep 5
ping_stop
check "charon SIGKILLed: the fast path kept forwarding, no ping lost in 6 s (sent $sent, received $received)" \
  test "${sent:-0}" -ge 150 -a "${sent:-0}" = "${received:-x}"
ike_start_charon gwa || exit 1
ike_swanctl gwa --initiate --child lab --timeout 15 >"$LAB_DIR/initiate2.out" 2>&1
check "a new charon re-establishes the tunnel" grep -q 'initiate completed successfully' "$LAB_DIR/initiate2.out"
check "traffic over the new CHILD_SA" lab_in "$LAB_ONPREM" ping -c 3 -i 0.2 -W 1 10.0.2.10

echo "$failures failure(s)"
[ "$failures" -eq 0 ] && trap lab_cleanup EXIT
[ "$failures" -eq 0 ]
