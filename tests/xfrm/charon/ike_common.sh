# shellcheck shell=bash
# Shared start of the IKE lab tests: paths, checks, the lab, both charons.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ERGW_BIN=${ERGW_BIN:?ERGW_BIN: the directory of ergw-fastpath}
ERGW_PLUGIN_DIR=${ERGW_PLUGIN_DIR:?ERGW_PLUGIN_DIR: the directory of libstrongswan-ergw-ipsec.so}
# shellcheck source=../fastpath/lab_topology.sh
source "$here/../fastpath/lab_topology.sh"
# shellcheck source=ike_lab.sh
source "$here/ike_lab.sh"

failures=0
check() {  # check "what" CMD...: runs CMD, prints ok/FAIL
  local what=$1; shift
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
}
eq() { [ "$1" = "$2" ]; }
ge() { [ "${1:-0}" -ge "$2" ] 2>/dev/null; }
le() { [ "${1:-0}" -le "$2" ] 2>/dev/null; }

# On failure, the logs that explain it.
ike_dump_logs() {
  local f
  for f in "$LAB_DIR"/fastpath-gwa.log "$LAB_DIR"/fastpath-gwb.log "$LAB_DIR"/charon-gwa/charon.log \
           "$LAB_DIR"/charon-gwb/charon.log; do
    [ -f "$f" ] || continue
    echo "---- tail of $f"
    grep -v '^counters' "$f" | tail -40
  done
}

# ike_up ESP_PROPOSAL: the lab, the fast path on gwA, both charons, the tunnel.
ike_up() {
  local esp=$1
  IKE_PSK=$(openssl rand -base64 32)
  lab_create >/dev/null || return 1
  IKE_INSTALL_ROUTES=no ike_write_config gwa "$esp" "" "${IKE_CHILD_EXTRA_gwa:-}"
  ike_write_config gwb "$esp" "" "${IKE_CHILD_EXTRA_gwb:-}"
  ike_start_fastpath gwa --keepalive 2 || return 1
  ike_start_charon gwa || return 1
  ike_start_charon gwb || return 1
  ike_swanctl gwa --initiate --child lab --timeout 15 >"$LAB_DIR/initiate.out" 2>&1 || {
    echo "initiate failed:"; tail -5 "$LAB_DIR/initiate.out"; return 1; }
  ike_wait_traffic 50
}

# ping_loss_start RATE_INTERVAL: background ping from onprem-host; sets PING_PID, PING_OUT.
ping_start() {
  PING_OUT=$LAB_DIR/ping.$RANDOM.out
  ip netns exec "$LAB_ONPREM" ping -i "${1:-0.02}" -W 1 10.0.2.10 >"$PING_OUT" 2>&1 &
  PING_PID=$!
  LAB_PIDS+=("$PING_PID")
}
# ping_stop: stops it (SIGINT prints the summary); sets sent and received.
# ping exits on SIGINT without waiting for the reply to its last request, so
# a request sent in the last RTT before the stop counts as transmitted and
# never as received. That one request, and only when every earlier one was
# answered, is taken out of "sent"; a tunnel that failed at the end still
# shows as loss, because then more than the last reply is missing.
ping_stop() {
  local last_answered
  kill -INT "$PING_PID" 2>/dev/null
  wait "$PING_PID" 2>/dev/null
  read -r sent received < <(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$PING_OUT")
  last_answered=$(awk -F'icmp_seq=' '/icmp_seq=/{split($2, a, " "); if (a[1] > max) max = a[1]} END {print max + 0}' "$PING_OUT")
  if [ -n "${sent:-}" ] && [ "$sent" = $((last_answered + 1)) ] && [ "${received:-}" = "$last_answered" ]; then
    echo "info: the request ping sent as it was stopped (icmp_seq=$sent) is not counted"
    sent=$last_answered
  fi
}

# ike_restart_fastpath_gwa [PAUSE]: SIGKILLs gwA's fast path, starts it again
# after PAUSE seconds (default none) and sets back_after to the seconds until
# a ping from onprem-host answers again ("never" after 100 tries);
# traffic_back_within_5s checks it.
ike_restart_fastpath_gwa() {
  local restart back=""
  kill -KILL "$IKE_FASTPATH_PID_gwa"
  wait "$IKE_FASTPATH_PID_gwa" 2>/dev/null
  [ -n "${1:-}" ] && sleep "$1"
  restart=$(date +%s.%N)
  ike_start_fastpath gwa --keepalive 2 || return 1
  for _ in $(seq 1 100); do
    if lab_in "$LAB_ONPREM" ping -c 1 -W 0.2 10.0.2.10 >/dev/null 2>&1; then back=$(date +%s.%N); break; fi
  done
  back_after=never
  [ -n "$back" ] && back_after=$(awk -v a="$restart" -v b="$back" 'BEGIN { printf "%.2f", b - a }')
  return 0
}
traffic_back_within_5s() { awk -v s="$back_after" 'BEGIN { exit !(s != "never" && s <= 5) }'; }
