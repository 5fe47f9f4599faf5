#!/usr/bin/env bash
# Lab test: two ergw-fastpath instances (gwA, gwB) keyed with the same static
# SAs carry ping and TCP (iperf3) between onprem-host and vnet-host, inner IPv4
# and IPv6 over one SA pair. Also checks the RFC 3948 port demux: an IKE packet
# (non-ESP marker) is counted and dropped, NAT-keepalives are counted.
#
#   tunnel_lab_test.sh ERGW_FASTPATH ALG(gcm|cbc) ENCAP(udp|none) OUTER(4|6) MODE(offload|plain|multiqueue)
# (multiqueue: two TUN queues, two UDP sockets with SO_REUSEPORT, four workers per gateway)
set -uo pipefail
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=lab_topology.sh
source "$here/lab_topology.sh"

bin=$1 alg=$2 encap=$3 outer=$4 mode=$5
lab_skip_unless_root
for tool in iperf3 ping openssl; do
  command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

failures=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
}
ge() { [ "${1:-0}" -ge "$2" ]; }
eq() { [ "${1:-x}" = "$2" ]; }

lab_create || exit 1
lab_write_sa_files "$alg" "$encap" "$outer"
extra=(--keepalive 1)
[ "$mode" = plain ] && extra+=(--no-offload)
[ "$mode" = multiqueue ] && extra+=(--queues 2)
lab_start_fastpaths "$bin" "${extra[@]}" || exit 1
sed -n 's/^ergw-fastpath: \(tun\|socket\)/  gwA \1/p' "$LAB_DIR/gwa.log"

if [ "$mode" = plain ]; then
  check "plain mode reports no TUN offload" grep -q 'tun fp0 .*vnet_hdr=no' "$LAB_DIR/gwa.log"
elif [ "$mode" = multiqueue ]; then
  check "two TUN queues reported" grep -q 'tun fp0 queues=2 .*multi_queue=yes' "$LAB_DIR/gwa.log"
else
  check "TUN offload detected and reported" grep -qE 'tun fp0 .*vnet_hdr=(yes|no)' "$LAB_DIR/gwa.log"
fi

check "ping IPv4 onprem-host -> vnet-host" lab_in "$LAB_ONPREM" ping -c 3 -i 0.2 -W 2 10.0.2.10
check "ping IPv6 onprem-host -> vnet-host" lab_in "$LAB_ONPREM" ping -6 -c 3 -i 0.2 -W 2 fd20::10
check "ping IPv4 vnet-host -> onprem-host (large, 1300 B)" lab_in "$LAB_VNET" ping -c 2 -s 1300 -W 2 192.168.10.10

iperf_run() {  # iperf_run SERVER_ADDR -> prints received bits per second
  local addr=$1
  lab_bg "$LAB_VNET" "$LAB_DIR/iperf-server.log" iperf3 -s -1 -B "$addr"
  local server=$LAB_LAST_PID
  sleep 0.5
  lab_in "$LAB_ONPREM" timeout 20 iperf3 -c "$addr" -t 2 -J >"$LAB_DIR/iperf-client.json" 2>&1
  lab_stop "$server"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(int(d["end"]["sum_received"]["bits_per_second"]))' \
    "$LAB_DIR/iperf-client.json" 2>/dev/null || echo 0
}
bps4=$(iperf_run 10.0.2.10)
check "iperf3 TCP over inner IPv4 carried data ($((bps4 / 1000000)) Mbit/s)" ge "$bps4" 1
bps6=$(iperf_run fd20::10)
check "iperf3 TCP over inner IPv6 carried data ($((bps6 / 1000000)) Mbit/s)" ge "$bps6" 1

if [ "$encap" = udp ]; then
  # An IKE message on the ESP port: zero non-ESP marker + junk. Must be
  # counted, never decrypted.
  if [ "$outer" = 6 ]; then dst=fd16::2; else dst=172.16.0.2; fi
  lab_in "$LAB_GWA" python3 -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.sendto(b"\0\0\0\0" + b"\x11" * 40, (sys.argv[1], 4500))' "$dst"
  sleep 1.5  # and at least one NAT-keepalive (interval 1 s)
fi

kill -USR1 "$LAB_PID_gwa"
sleep 0.5
check "SIGUSR1 prints the counters while running" grep -q '^counters io ' "$LAB_DIR/gwa.log"
lab_stop "$LAB_PID_gwa"
lab_stop "$LAB_PID_gwb"
check "gwA stopped cleanly on SIGTERM" grep -q 'ergw-fastpath: stopped' "$LAB_DIR/gwa.log"
check "gwB stopped cleanly on SIGTERM" grep -q 'ergw-fastpath: stopped' "$LAB_DIR/gwb.log"
for side in gwa gwb; do
  grep '^counters' "$LAB_DIR/$side.log" | sed "s/^/  $side /" | cut -c1-400
done
a=$LAB_DIR/gwa.log b=$LAB_DIR/gwb.log
check "gwA out SA carried packets" ge "$(lab_counter "$a" packets a-to-b)" 100
check "gwB in SA carried packets" ge "$(lab_counter "$b" packets a-to-b)" 100
check "gwB out SA carried packets" ge "$(lab_counter "$b" packets b-to-a)" 100
check "gwA in SA carried packets" ge "$(lab_counter "$a" packets b-to-a)" 100
check "no ICV failures on gwB" eq "$(lab_counter "$b" icv_mismatch a-to-b)" 0
check "no ICV failures on gwA" eq "$(lab_counter "$a" icv_mismatch b-to-a)" 0
check "no replay drops on gwB" eq "$(lab_counter "$b" replayed a-to-b)" 0
check "no unknown SPIs on gwB" eq "$(grep '^counters table drops' "$b" | tail -1 | tr ' ' '\n' | sed -n 's/^unknown_spi=//p')" 0
check "no malformed offload packets on gwA" eq "$(lab_counter "$a" drop_offload_malformed)" 0
if [ "$encap" = udp ]; then
  check "IKE packet on port 4500 counted and dropped by gwB" eq "$(lab_counter "$b" ike_marker_dropped)" 1
  check "NAT-keepalives received and ignored by gwB" ge "$(lab_counter "$b" nat_keepalives_received)" 1
fi
echo "info: gwA tun_gso_reads=$(lab_counter "$a" tun_gso_reads) tun_segments=$(lab_counter "$a" tun_segments)" \
     "outer_send_calls=$(lab_counter "$a" outer_send_calls) outer_sent=$(lab_counter "$a" outer_sent);" \
     "gwB outer_gro_messages=$(lab_counter "$b" outer_gro_messages)"
check "no key material in the daemons' output" bash -c "! grep -qi -e '$LAB_KEY_AB' -e '$LAB_KEY_BA' '$a' '$b'"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
