# shellcheck shell=bash
# The fast-path lab (docs/fastpath.md "Tests"), sourced by the lab tests and by
# bench/run. Four network namespaces, all names unique per run (pid):
#
#   onprem-host -- gwA ==== ESP over "ExpressRoute" ==== gwB -- vnet-host
#   192.168.10.10   .1 | 172.16.0.1      172.16.0.2 | 10.0.2.1   10.0.2.10
#   fd10::10       ::1 | fd16::1            fd16::2 | fd20::1    fd20::10
#
# Nothing in the root namespace is touched. lab_cleanup (installed as an EXIT
# trap by lab_create) kills only the processes this script started, by pid,
# and deletes only its own namespaces.

LAB_TAG=${LAB_TAG:-ergw-fp$$}
LAB_ONPREM=$LAB_TAG-onprem
LAB_GWA=$LAB_TAG-gwa
LAB_GWB=$LAB_TAG-gwb
LAB_VNET=$LAB_TAG-vnet
LAB_DIR=${LAB_DIR:-$(mktemp -d /tmp/"$LAB_TAG".XXXXXX)}
LAB_PIDS=()
LAB_TUN=fp0
LAB_MTU=${LAB_MTU:-auto}

lab_log() { echo "[lab] $*"; }

lab_skip_unless_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root (network namespaces, TUN devices)"
    exit 77
  fi
  if [ ! -c /dev/net/tun ]; then
    echo "SKIP: /dev/net/tun is missing: this kernel or container has no TUN"
    exit 77
  fi
}

lab_cleanup() {
  local pid ns
  for pid in "${LAB_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${LAB_PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null
  done
  LAB_PIDS=()
  for ns in "$LAB_ONPREM" "$LAB_GWA" "$LAB_GWB" "$LAB_VNET"; do
    ip netns del "$ns" 2>/dev/null
  done
  if [ -z "${LAB_KEEP_DIR:-}" ]; then
    # A daemon that just died may still be closing its log: retry once.
    rm -rf "$LAB_DIR" 2>/dev/null || { sleep 0.5; rm -rf "$LAB_DIR"; }
  fi
}

# lab_in NS CMD...: run a command in a namespace.
lab_in() {
  local ns=$1; shift
  ip netns exec "$ns" "$@"
}

lab_sysctl() { lab_in "$1" sysctl -qw "$2" >/dev/null; }

# lab_bg NS LOG CMD...: start a background process in NS, remember its pid.
lab_bg() {
  local ns=$1 log=$2; shift 2
  ip netns exec "$ns" "$@" >"$log" 2>&1 &
  LAB_PIDS+=($!)
  LAB_LAST_PID=$!
}

# lab_stop PID: SIGTERM one process we started and wait for it.
lab_stop() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  local kept=()
  for p in "${LAB_PIDS[@]}"; do [ "$p" != "$pid" ] && kept+=("$p"); done
  LAB_PIDS=("${kept[@]}")
  return 0
}

lab_create() {
  trap lab_cleanup EXIT
  trap 'exit 130' INT TERM
  local ns
  for ns in "$LAB_ONPREM" "$LAB_GWA" "$LAB_GWB" "$LAB_VNET"; do
    ip netns add "$ns" || return 1
    lab_in "$ns" ip link set lo up
    lab_sysctl "$ns" net.ipv6.conf.all.accept_dad=0
    lab_sysctl "$ns" net.ipv6.conf.default.accept_dad=0
  done
  ip link add in0 netns "$LAB_ONPREM" type veth peer name in0 netns "$LAB_GWA" || return 1
  ip link add out0 netns "$LAB_GWA" type veth peer name out0 netns "$LAB_GWB" || return 1
  ip link add in0 netns "$LAB_GWB" type veth peer name in0 netns "$LAB_VNET" || return 1

  lab_in "$LAB_ONPREM" ip addr add 192.168.10.10/24 dev in0
  lab_in "$LAB_ONPREM" ip addr add fd10::10/64 dev in0 nodad
  lab_in "$LAB_GWA" ip addr add 192.168.10.1/24 dev in0
  lab_in "$LAB_GWA" ip addr add fd10::1/64 dev in0 nodad
  lab_in "$LAB_GWA" ip addr add 172.16.0.1/24 dev out0
  lab_in "$LAB_GWA" ip addr add fd16::1/64 dev out0 nodad
  lab_in "$LAB_GWB" ip addr add 172.16.0.2/24 dev out0
  lab_in "$LAB_GWB" ip addr add fd16::2/64 dev out0 nodad
  lab_in "$LAB_GWB" ip addr add 10.0.2.1/24 dev in0
  lab_in "$LAB_GWB" ip addr add fd20::1/64 dev in0 nodad
  lab_in "$LAB_VNET" ip addr add 10.0.2.10/24 dev in0
  lab_in "$LAB_VNET" ip addr add fd20::10/64 dev in0 nodad
  for ns in "$LAB_ONPREM" "$LAB_GWA" "$LAB_GWB" "$LAB_VNET"; do
    lab_in "$ns" ip link set in0 up 2>/dev/null
    lab_in "$ns" ip link set out0 up 2>/dev/null
  done
  lab_in "$LAB_ONPREM" ip route add default via 192.168.10.1
  lab_in "$LAB_ONPREM" ip -6 route add default via fd10::1
  lab_in "$LAB_VNET" ip route add default via 10.0.2.1
  lab_in "$LAB_VNET" ip -6 route add default via fd20::1
  for ns in "$LAB_GWA" "$LAB_GWB"; do
    lab_sysctl "$ns" net.ipv4.ip_forward=1
    lab_sysctl "$ns" net.ipv6.conf.all.forwarding=1
    lab_sysctl "$ns" net.ipv4.conf.all.rp_filter=0
    lab_sysctl "$ns" net.ipv4.conf.default.rp_filter=0
    # GRO on the veths: forwarded TCP then reaches the TUN as TSO packets and
    # UDP trains reach the ESP socket coalesced (veth needs NAPI for GRO).
    if command -v ethtool >/dev/null; then
      lab_in "$ns" ethtool -K in0 gro on >/dev/null 2>&1
      lab_in "$ns" ethtool -K out0 gro on rx-udp-gro-forwarding on >/dev/null 2>&1
    fi
  done
  lab_log "namespaces $LAB_ONPREM $LAB_GWA $LAB_GWB $LAB_VNET up (files in $LAB_DIR)"
}

# lab_route_tunnel NS DEV: send the far side's inner prefixes into DEV.
lab_route_tunnel() {
  local ns=$1 dev=$2
  if [ "$ns" = "$LAB_GWA" ]; then
    lab_in "$ns" ip route replace 10.0.2.0/24 dev "$dev"
    lab_in "$ns" ip -6 route replace fd20::/64 dev "$dev"
  else
    lab_in "$ns" ip route replace 192.168.10.0/24 dev "$dev"
    lab_in "$ns" ip -6 route replace fd10::/64 dev "$dev"
  fi
}

lab_hex() { openssl rand -hex "$1"; }

# lab_write_sa_files ALG ENCAP FAMILY: writes $LAB_DIR/gwa.json and gwb.json,
# mirror images keyed with the same fresh random keys. Also sets LAB_SA_*
# variables (the keys, for the independent decoder). LAB_SA_EXTRA_AB, if set,
# is inserted into the a->b SA of both files (e.g. a lifetime, ending in ",").
#   ALG: gcm | cbc      ENCAP: udp | none      FAMILY: 4 | 6 (outer)
lab_write_sa_files() {
  local alg=$1 encap=$2 family=$3
  local a b
  if [ "$family" = 6 ]; then a=fd16::1 b=fd16::2; else a=172.16.0.1 b=172.16.0.2; fi
  LAB_OUTER_A=$a LAB_OUTER_B=$b
  LAB_SPI_AB=0x00a0b001 LAB_SPI_BA=0x00b0a001
  local encap_json='"encap": {"type": "none"},'
  [ "$encap" = udp ] && encap_json='"encap": {"type": "espinudp", "sport": 4500, "dport": 4500},'
  local crypto_ab crypto_ba
  if [ "$alg" = gcm ]; then
    LAB_KEY_AB=$(lab_hex 36) LAB_KEY_BA=$(lab_hex 36)
    crypto_ab="\"aead\": {\"name\": \"rfc4106(gcm(aes))\", \"key\": \"0x$LAB_KEY_AB\", \"icv_bits\": 128}"
    crypto_ba="\"aead\": {\"name\": \"rfc4106(gcm(aes))\", \"key\": \"0x$LAB_KEY_BA\", \"icv_bits\": 128}"
  else
    LAB_KEY_AB=$(lab_hex 32) LAB_KEY_BA=$(lab_hex 32)
    LAB_AUTH_AB=$(lab_hex 32) LAB_AUTH_BA=$(lab_hex 32)
    crypto_ab="\"enc\": {\"name\": \"cbc(aes)\", \"key\": \"0x$LAB_KEY_AB\"}, \"auth\": {\"name\": \"hmac(sha256)\", \"key\": \"0x$LAB_AUTH_AB\", \"trunc_bits\": 128}"
    crypto_ba="\"enc\": {\"name\": \"cbc(aes)\", \"key\": \"0x$LAB_KEY_BA\"}, \"auth\": {\"name\": \"hmac(sha256)\", \"key\": \"0x$LAB_AUTH_BA\", \"trunc_bits\": 128}"
  fi
  local side dir_ab dir_ba
  for side in gwa gwb; do
    if [ $side = gwa ]; then dir_ab=out dir_ba=in; else dir_ab=in dir_ba=out; fi
    cat >"$LAB_DIR/$side.json" <<JSON
{
  "version": 1,
  "sas": [
    {"name": "a-to-b", "dir": "$dir_ab", "src": "$a", "dst": "$b", "spi": "$LAB_SPI_AB", $encap_json
     $crypto_ab, "replay_window": 1024, ${LAB_SA_EXTRA_AB:-}
     "sel": {"src": ["192.168.10.0/24", "fd10::/64"], "dst": ["10.0.2.0/24", "fd20::/64"]}},
    {"name": "b-to-a", "dir": "$dir_ba", "src": "$b", "dst": "$a", "spi": "$LAB_SPI_BA", $encap_json
     $crypto_ba, "replay_window": 1024,
     "sel": {"src": ["10.0.2.0/24", "fd20::/64"], "dst": ["192.168.10.0/24", "fd10::/64"]}}
  ]
}
JSON
    chmod 600 "$LAB_DIR/$side.json"
  done
}

# lab_start_fastpaths BINARY EXTRA_ARGS...: one ergw-fastpath per gateway,
# waits until both run, routes the inner prefixes into their TUNs.
lab_start_fastpaths() {
  local bin=$1; shift
  local side ns
  for side in gwa gwb; do
    if [ $side = gwa ]; then ns=$LAB_GWA; else ns=$LAB_GWB; fi
    # LAB_CPUS_gwa / LAB_CPUS_gwb, if set, pin that gateway's workers (--cpus).
    local cpus_var=LAB_CPUS_$side
    local pin=()
    [ -n "${!cpus_var:-}" ] && pin=(--cpus "${!cpus_var}")
    lab_bg "$ns" "$LAB_DIR/$side.log" "$bin" --sa-file "$LAB_DIR/$side.json" --tun "$LAB_TUN" --mtu "$LAB_MTU" \
      "${pin[@]}" "$@"
    eval "LAB_PID_$side=$LAB_LAST_PID"
  done
  for side in gwa gwb; do
    for _ in $(seq 1 50); do
      grep -q 'ergw-fastpath: running' "$LAB_DIR/$side.log" 2>/dev/null && break
      sleep 0.1
    done
    if ! grep -q 'ergw-fastpath: running' "$LAB_DIR/$side.log"; then
      echo "ergw-fastpath on $side did not start:"; cat "$LAB_DIR/$side.log"; return 1
    fi
  done
  lab_route_tunnel "$LAB_GWA" "$LAB_TUN"
  lab_route_tunnel "$LAB_GWB" "$LAB_TUN"
}

# lab_counter LOG NAME [SA]: the last value of an io counter, or of an SA's
# "packets"/drop reason when SA is given.
lab_counter() {
  local log=$1 name=$2 sa=${3:-}
  if [ -z "$sa" ]; then
    grep '^counters io ' "$log" | tail -1 | tr ' ' '\n' | sed -n "s/^$name=//p"
  else
    grep "^counters sa=$sa " "$log" | tail -2 | tr ' ' '\n' | sed -n "s/^$name=//p" | tail -1
  fi
}
