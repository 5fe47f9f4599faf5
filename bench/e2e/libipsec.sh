# shellcheck shell=bash
# The baseline for bench/run: strongSwan's charon with kernel-libipsec
# (userspace ESP over a TUN, always ESP-in-UDP) in the two gateway namespaces
# of the fast-path lab (tests/xfrm/fastpath/lab_topology.sh), PSK IKEv2.
# Each charon gets a private /run (architecture.md "Verified on a build machine").
# Needs lab_topology.sh sourced first.

# libipsec_start ESP_PROPOSAL: e.g. aes256gcm16 or aes256-sha256. Returns when
# the CHILD_SA is up.
libipsec_start() {
  local esp=$1 side ns me peer my_addr peer_addr my_net peer_net dir
  local psk
  psk=$(openssl rand -base64 32)
  for side in gwa gwb; do
    dir=$LAB_DIR/charon-$side
    rm -rf "$dir"  # a stale vici socket from an earlier run would fool the wait below
    mkdir -p "$dir"
    if [ $side = gwa ]; then
      ns=$LAB_GWA me=gwa.lab peer=gwb.lab my_addr=172.16.0.1 peer_addr=172.16.0.2
      my_net=192.168.10.0/24 peer_net=10.0.2.0/24
    else
      ns=$LAB_GWB me=gwb.lab peer=gwa.lab my_addr=172.16.0.2 peer_addr=172.16.0.1
      my_net=10.0.2.0/24 peer_net=192.168.10.0/24
    fi
    cat >"$dir/strongswan.conf" <<CONF
charon {
  load = random nonce openssl pem pkcs1 x509 revocation constraints pubkey kdf aes sha1 sha2 hmac gcm kernel-libipsec kernel-netlink socket-default vici updown
  install_routes = yes
  plugins {
    vici { socket = unix://$dir/charon.vici }
  }
  filelog {
    bench { path = $dir/charon.log
            default = 1 }
  }
  syslog { daemon { default = -1 } }
}
CONF
    cat >"$dir/swanctl.conf" <<CONF
connections {
  bench {
    version = 2
    local_addrs = $my_addr
    remote_addrs = $peer_addr
    proposals = aes256-sha256-modp2048
    local { auth = psk
            id = $me }
    remote { auth = psk
             id = $peer }
    children {
      bench {
        local_ts = $my_net
        remote_ts = $peer_net
        esp_proposals = $esp
        mode = tunnel
      }
    }
  }
}
secrets {
  ike-bench {
    id-a = gwa.lab
    id-b = gwb.lab
    secret = 0s$psk
  }
}
CONF
    chmod 600 "$dir/swanctl.conf"
    lab_bg "$ns" "$dir/charon.out" unshare -m sh -c \
      "mount -t tmpfs none /run && mkdir -p /run/strongswan && STRONGSWAN_CONF=$dir/strongswan.conf exec /usr/lib/ipsec/charon"
    eval "LIBIPSEC_PID_$side=$LAB_LAST_PID"
  done
  for side in gwa gwb; do
    dir=$LAB_DIR/charon-$side
    local loaded=no
    for _ in $(seq 1 100); do
      if [ -S "$dir/charon.vici" ] &&
         swanctl --load-all --file "$dir/swanctl.conf" --uri "unix://$dir/charon.vici" >"$dir/load.out" 2>&1; then
        loaded=yes
        break
      fi
      sleep 0.1
    done
    if [ $loaded != yes ]; then
      echo "libipsec: swanctl --load-all failed on $side:"; tail -5 "$dir/load.out"; return 1
    fi
  done
  # The same placement as the fast path gets (LAB_CPUS_gwa/gwb): every charon
  # thread, kernel-libipsec's TUN reader and ESP workers included, on its
  # gateway's CPU. It was libipsec's best of the placements tried (docs/fastpath.md).
  local cpus_var pid_var
  for side in gwa gwb; do
    cpus_var=LAB_CPUS_$side pid_var=LIBIPSEC_PID_$side
    if [ -n "${!cpus_var:-}" ]; then
      taskset -a -p -c "${!cpus_var}" "${!pid_var}" >/dev/null ||
        echo "libipsec: could not pin $side to CPUs ${!cpus_var}"
    fi
  done
  swanctl --initiate --child bench --timeout 15 --uri "unix://$LAB_DIR/charon-gwa/charon.vici" \
    >"$LAB_DIR/charon-gwa/initiate.out" 2>&1 || {
    echo "libipsec: initiate failed:"; tail -5 "$LAB_DIR/charon-gwa/initiate.out"; return 1; }
  # Routes into ipsec0 appear a moment after the CHILD_SA.
  for _ in $(seq 1 50); do
    lab_in "$LAB_ONPREM" ping -c 1 -W 1 10.0.2.10 >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "libipsec: no traffic through the tunnel"
  return 1
}

libipsec_stop() {
  lab_stop "$LIBIPSEC_PID_gwa"
  lab_stop "$LIBIPSEC_PID_gwb"
}
