# shellcheck shell=bash
# Two charons in the fast-path lab (tests/xfrm/fastpath/lab_topology.sh):
# gwA runs charon with the ergw-ipsec plugin and ergw-fastpath (the data
# plane under test), gwB runs charon with strongSwan's kernel-libipsec, an
# independent ESP implementation, as the peer. PSK IKEv2.
#
# Each charon gets a private /run (a mount namespace); in gwA's, an overlay
# mount puts the plugin's build directory over charon's plugin directory, so
# charon finds libstrongswan-ergw-ipsec.so without installing it. Never is
# kernel-libipsec loaded beside the plugin.
#
# Needs lab_topology.sh sourced first, and ERGW_BIN (build/bin) and
# ERGW_PLUGIN_DIR (build/lib/charon-plugins) set.

IKE_CHARON_PLUGINS="random nonce openssl pem pkcs1 x509 revocation constraints pubkey kdf aes sha1 sha2 hmac gcm"

ike_skip_unless_ready() {
  lab_skip_unless_root
  if [ ! -x /usr/lib/ipsec/charon ]; then echo "SKIP: strongSwan's charon is not installed"; exit 77; fi
  if [ ! -f "$ERGW_PLUGIN_DIR/libstrongswan-ergw-ipsec.so" ]; then
    echo "SKIP: the ergw-ipsec plugin was not built (run tools/strongswan-source, then build ergw-ipsec-plugin)"
    exit 77
  fi
  if [ ! -f /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ]; then
    echo "SKIP: kernel-libipsec (libcharon-extra-plugins) is not installed: no independent peer"; exit 77
  fi
}

# ike_write_config SIDE ESP_PROPOSAL [KERNEL_PLUGINS] [EXTRA_CHILD_OPTIONS]
# Writes $LAB_DIR/charon-SIDE/{strongswan.conf,swanctl.conf}.
ike_write_config() {
  local side=$1 esp=$2 kernel=${3:-} extra=${4:-}
  local dir=$LAB_DIR/charon-$side me peer my_addr peer_addr my_net peer_net my_net6 peer_net6
  mkdir -p "$dir"
  if [ "$side" = gwa ]; then
    me=gwa.lab peer=gwb.lab my_addr=172.16.0.1 peer_addr=172.16.0.2
    my_net=192.168.10.0/24 peer_net=10.0.2.0/24 my_net6=fd10::/64 peer_net6=fd20::/64
    [ -z "$kernel" ] && kernel="ergw-ipsec kernel-netlink"
  else
    me=gwb.lab peer=gwa.lab my_addr=172.16.0.2 peer_addr=172.16.0.1
    my_net=10.0.2.0/24 peer_net=192.168.10.0/24 my_net6=fd20::/64 peer_net6=fd10::/64
    [ -z "$kernel" ] && kernel="kernel-libipsec kernel-netlink"
  fi
  cat >"$dir/strongswan.conf" <<CONF
charon {
  load = $IKE_CHARON_PLUGINS $kernel socket-default vici updown
  install_routes = ${IKE_INSTALL_ROUTES:-yes}
  retransmit_timeout = 2.0
  retransmit_tries = 3
  plugins {
    vici { socket = unix://$dir/charon.vici }
    ergw-ipsec { socket = $LAB_DIR/fastpath-$side.sock
                 timeout = 1000 }
  }
  filelog {
    lab { path = $dir/charon.log
          default = 1
          knl = 2
          flush_line = yes
          time_format = %T }
  }
  syslog { daemon { default = -1 } }
}
CONF
  cat >"$dir/swanctl.conf" <<CONF
connections {
  lab {
    version = 2
    encap = ${IKE_ENCAP:-no}
    local_addrs = $my_addr
    remote_addrs = $peer_addr
    proposals = ${IKE_PROPOSAL:-aes256-sha256-modp2048}
    rekey_time = ${IKE_REKEY_TIME:-4h}
    dpd_delay = ${IKE_DPD_DELAY:-0}
    local { auth = psk
            id = $me }
    remote { auth = psk
             id = $peer }
    children {
      lab {
        local_ts = $my_net,$my_net6
        remote_ts = $peer_net,$peer_net6
        esp_proposals = $esp
        mode = tunnel
        rekey_time = ${IKE_CHILD_REKEY_TIME:-1h}
        replay_window = 1024
        $extra
      }
    }
  }
}
secrets {
  ike-lab {
    id-a = gwa.lab
    id-b = gwb.lab
    secret = 0s$IKE_PSK
  }
}
CONF
  chmod 600 "$dir/swanctl.conf"
}

# ike_start_charon SIDE: charon in SIDE's namespace with a private /run; the
# plugin visible through an overlay over the plugin directory.
ike_start_charon() {
  local side=$1 ns
  local dir=$LAB_DIR/charon-$side
  if [ "$side" = gwa ]; then ns=$LAB_GWA; else ns=$LAB_GWB; fi
  rm -f "$dir/charon.vici"
  lab_bg "$ns" "$dir/charon.out" unshare -m sh -c \
    "mount -t tmpfs none /run && mkdir -p /run/strongswan &&
     mount -t overlay overlay -o lowerdir=$ERGW_PLUGIN_DIR:/usr/lib/ipsec/plugins /usr/lib/ipsec/plugins &&
     STRONGSWAN_CONF=$dir/strongswan.conf exec /usr/lib/ipsec/charon"
  eval "IKE_CHARON_PID_$side=$LAB_LAST_PID"
  for _ in $(seq 1 100); do
    if [ -S "$dir/charon.vici" ] &&
       swanctl --load-all --file "$dir/swanctl.conf" --uri "unix://$dir/charon.vici" >"$dir/load.out" 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  echo "charon on $side did not come up:"; tail -20 "$dir/charon.log" "$dir/charon.out" "$dir/load.out" 2>/dev/null
  return 1
}

# ike_start_fastpath SIDE [ARGS...]: ergw-fastpath with a control socket.
ike_start_fastpath() {
  local side=$1 ns
  shift
  if [ "$side" = gwa ]; then ns=$LAB_GWA; else ns=$LAB_GWB; fi
  local cpus_var=LAB_CPUS_$side
  local pin=()
  [ -n "${!cpus_var:-}" ] && pin=(--cpus "${!cpus_var}")
  lab_bg "$ns" "$LAB_DIR/fastpath-$side.log" "$ERGW_BIN/ergw-fastpath" --control "$LAB_DIR/fastpath-$side.sock" \
    --sequence-file "$LAB_DIR/fastpath-$side.seq" --tun "$LAB_TUN" "${pin[@]}" "$@"
  eval "IKE_FASTPATH_PID_$side=$LAB_LAST_PID"
  local log=$LAB_DIR/fastpath-$side.log
  for _ in $(seq 1 100); do
    [ "$(grep -c 'ergw-fastpath: running' "$log" 2>/dev/null)" -ge "${IKE_FASTPATH_STARTS:-1}" ] && break
    sleep 0.05
  done
  if ! grep -q 'ergw-fastpath: running' "$log"; then echo "ergw-fastpath on $side did not start:"; cat "$log"; return 1; fi
  # charon installs no routes with the plugin: the inner prefixes go into the TUN.
  lab_route_tunnel "$ns" "$LAB_TUN"
}

ike_swanctl() {  # ike_swanctl SIDE ARGS...
  local side=$1; shift
  swanctl "$@" --uri "unix://$LAB_DIR/charon-$side/charon.vici"
}

# ike_wait_traffic [TRIES]: until onprem-host pings vnet-host through the tunnel.
ike_wait_traffic() {
  local tries=${1:-50}
  for _ in $(seq 1 "$tries"); do
    lab_in "$LAB_ONPREM" ping -c 1 -W 1 10.0.2.10 >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# ike_children SIDE: "spi_in/spi_out" of each installed CHILD_SA, one per line.
ike_children() {
  ike_swanctl "$1" --list-sas --raw 2>/dev/null | grep -o 'spi-in=[0-9a-f]* spi-out=[0-9a-f]*' || true
}

# ike_fastpath_counters SIDE: SIGUSR1 and the latest report's lines.
ike_fastpath_counters() {
  local side=$1 pid_var=IKE_FASTPATH_PID_$1
  kill -USR1 "${!pid_var}"
  sleep 0.3
  awk '/^counters io /{block=NR} {line[NR]=$0} END {for (i = 1; i <= NR; i++) if (line[i] ~ /^counters/) last=i;
       start=last; while (start > 1 && line[start-1] ~ /^counters/) start--; for (i = start; i <= last; i++) print line[i]}' \
    "$LAB_DIR/fastpath-$side.log"
}
