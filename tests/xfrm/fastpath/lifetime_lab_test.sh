#!/usr/bin/env bash
# Lab test: a static SA with a hard packet lifetime stops carrying traffic at
# the limit, the daemon says so (without keys), and the drops are counted as
# sa_expired; the other direction is unaffected.
#
#   lifetime_lab_test.sh ERGW_FASTPATH
set -uo pipefail
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=lab_topology.sh
source "$here/lab_topology.sh"

bin=$1
lab_skip_unless_root
failures=0
check() {
  local what=$1; shift
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
}

lab_create || exit 1
LAB_SA_EXTRA_AB='"lifetime": {"soft": {"packets": 10}, "hard": {"packets": 20}},'
lab_write_sa_files gcm udp 4
lab_start_fastpaths "$bin" --keepalive 0 || exit 1
check "the first pings pass" lab_in "$LAB_ONPREM" ping -c 5 -i 0.1 -W 1 10.0.2.10
lab_in "$LAB_ONPREM" ping -c 30 -i 0.05 -W 1 10.0.2.10 >/dev/null 2>&1
sleep 1.5  # the main thread reports events once a second
check "after the hard limit pings fail" bash -c "! ip netns exec '$LAB_ONPREM' ping -c 2 -i 0.2 -W 1 10.0.2.10 >/dev/null"
lab_stop "$LAB_PID_gwa"
lab_stop "$LAB_PID_gwb"
a=$LAB_DIR/gwa.log
grep -E '^ergw-fastpath: SA|^counters sa=a-to-b' "$a" | cut -c1-200 | sed 's/^/  /'
check "soft expire reported" grep -q 'spi=0x00a0b001 soft expire (packets)' "$a"
check "hard expire reported" grep -q 'spi=0x00a0b001 hard expire (packets)' "$a"
check "exactly 20 packets carried" test "$(lab_counter "$a" packets a-to-b)" = 20
check "later packets dropped as sa_expired" test "$(lab_counter "$a" sa_expired a-to-b)" -ge 10
check "the SA reports expired=yes" grep -q '^counters sa=a-to-b dir=out .*expired=yes' "$a"
check "no key material in the output" bash -c "! grep -qi '$LAB_KEY_AB' '$a'"
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
