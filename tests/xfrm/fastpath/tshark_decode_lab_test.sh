#!/usr/bin/env bash
# Lab test with an independent decoder: capture what two ergw-fastpath
# gateways put on the wire (dumpcap on gwB's outer veth) and have Wireshark's
# ESP dissector decrypt it with the SA keys and verify every ICV
# (Wireshark's ESP preferences esp.enable_encryption_decode and
# esp.enable_authentication_check, and the esp_sa UAT). A negative control with one wrong key must fail the ICV.
#
#   tshark_decode_lab_test.sh ERGW_FASTPATH ALG(gcm|cbc) ENCAP(udp|none) OUTER(4|6)
set -uo pipefail
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=lab_topology.sh
source "$here/lab_topology.sh"

bin=$1 alg=$2 encap=$3 outer=$4
lab_skip_unless_root
for tool in tshark dumpcap ping openssl; do
  command -v $tool >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

failures=0
check() {
  local what=$1; shift
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
}

lab_create || exit 1
lab_write_sa_files "$alg" "$encap" "$outer"
lab_start_fastpaths "$bin" --keepalive 0 || exit 1

capture=$LAB_DIR/wire.pcapng
lab_bg "$LAB_GWB" "$LAB_DIR/dumpcap.log" dumpcap -q -i out0 -f "udp port 4500 or ip proto 50 or ip6 proto 50" -w "$capture"
dumpcap_pid=$LAB_LAST_PID
for _ in $(seq 1 50); do [ -s "$capture" ] && break; sleep 0.1; done
sleep 0.3
check "ping IPv4 through the tunnel" lab_in "$LAB_ONPREM" ping -c 3 -i 0.2 -W 2 10.0.2.10
check "ping IPv6 through the tunnel" lab_in "$LAB_ONPREM" ping -6 -c 3 -i 0.2 -W 2 fd20::10
check "ping IPv4 with a payload that needs padding" lab_in "$LAB_ONPREM" ping -c 3 -i 0.2 -s 1001 -W 2 10.0.2.10
sleep 0.3
lab_stop "$dumpcap_pid"

family_name=IPv4
[ "$outer" = 6 ] && family_name=IPv6
if [ "$alg" = gcm ]; then
  enc_name="AES-GCM with 16 octet ICV [RFC4106]" auth_name="NULL"
else
  enc_name="AES-CBC [RFC3602]" auth_name="HMAC-SHA-256-128 [RFC4868]"
fi
# One UAT record: protocol, src, dst, SPI, encryption, key, authentication, key.
sa_record() {  # sa_record SRC DST SPI ENC_KEY AUTH_KEY
  printf 'uat:esp_sa:"%s","%s","%s","%s","%s","0x%s","%s","%s"' \
    "$family_name" "$1" "$2" "$3" "$enc_name" "$4" "$auth_name" "${5:+0x$5}"
}
decode() {  # decode ENC_KEY_AB AUTH_KEY_AB -> one line per ESP packet: spi seq icv_good icv_bad next_header inner_src
  tshark -n -r "$capture" -d udp.port==4500,udpencap \
    -o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE \
    -o "$(sa_record "$LAB_OUTER_A" "$LAB_OUTER_B" "$LAB_SPI_AB" "$1" "${2:-}")" \
    -o "$(sa_record "$LAB_OUTER_B" "$LAB_OUTER_A" "$LAB_SPI_BA" "$LAB_KEY_BA" "${LAB_AUTH_BA:-}")" \
    -Y esp -T fields -E occurrence=l -e esp.spi -e esp.sequence -e esp.icv_good -e esp.icv_bad \
    -e esp.protocol -e ip.src -e ipv6.src -e esp.sequence-analysis.wrong-sequence-number 2>/dev/null
}

decode "$LAB_KEY_AB" "${LAB_AUTH_AB:-}" >"$LAB_DIR/decoded.txt"
echo "tshark $(tshark --version | head -1 | awk '{print $3}') decoded (spi seq icv_good icv_bad next_header inner_v4_src inner_v6_src):"
sed 's/^/  /' "$LAB_DIR/decoded.txt" | head -24
total=$(wc -l <"$LAB_DIR/decoded.txt")
good=$(awk -F'\t' '$3 == "1" && $4 != "1"' "$LAB_DIR/decoded.txt" | wc -l)
check "capture holds ESP both ways (18 expected, got $total)" test "$total" -ge 18
check "every ESP packet's ICV verified by tshark ($good of $total)" test "$good" -eq "$total"
check "decrypted inner IPv4 from onprem-host" grep -qP '\t0x04\t192\.168\.10\.10\t' "$LAB_DIR/decoded.txt"
check "decrypted inner IPv6 from onprem-host" grep -qP '\t0x29\t[^\t]*\tfd10::10' "$LAB_DIR/decoded.txt"
check "decrypted inner IPv4 from vnet-host" grep -qP '\t0x04\t10\.0\.2\.10\t' "$LAB_DIR/decoded.txt"
check "sequence numbers increase by one per SPI (no wrong-sequence flags)" \
  bash -c "! awk -F'\t' '\$8 != \"\"' '$LAB_DIR/decoded.txt' | grep -q ."

# Negative control: a wrong integrity key for a->b (the GCM key, or the HMAC
# key for CBC) must make tshark refuse those ICVs.
flip() { printf '%s' "$1" | tr '0-9a-f' '1-9a-f0'; }
if [ "$alg" = gcm ]; then
  wrong=("$(flip "$LAB_KEY_AB")" "")
else
  wrong=("$LAB_KEY_AB" "$(flip "$LAB_AUTH_AB")")
fi
bad_good=$(decode "${wrong[@]}" | awk -F'\t' -v spi="$LAB_SPI_AB" '$1 == spi && $3 == "1"' | wc -l)
check "negative control: with a wrong key no a->b ICV verifies" test "$bad_good" -eq 0
check "no key material in the daemons' output" \
  bash -c "! grep -qi -e '$LAB_KEY_AB' -e '$LAB_KEY_BA' '$LAB_DIR/gwa.log' '$LAB_DIR/gwb.log'"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
