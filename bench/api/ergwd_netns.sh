#!/usr/bin/env bash
# The real ergwd for bench/api/run --daemon ergwd: a network namespace of its
# own with charon (kernel-libipsec, its own /run) and ergwd serving its API on
# 127.0.0.1:8443 there, configured from STATE/config-a.json (whose
# connections dial addresses nobody answers (a veth whose far end has no address): charon and ergwd do all the work
# of 100 connections, none comes up). Root.
#
#   ergwd_netns.sh up NETNS STATE BUILD   prints: PORT SOCKET CACERT ADDRESS ERGWD_PID
#   ergwd_netns.sh down NETNS STATE       stops what `up` started, removes the namespace
set -euo pipefail
cmd=$1 netns=$2 state=$3
port=8443

case $cmd in
  up)
    build=$4
    ip netns add "$netns"
    ip -n "$netns" link set lo up
    ip -n "$netns" link add wan0 type veth peer name wan1  # no dummy driver here; the peer end answers nothing
    ip -n "$netns" link set wan1 up
    ip -n "$netns" addr add 172.16.0.1/16 dev wan0
    ip -n "$netns" link set wan0 up
    mkdir -p "$state/charon/strongswan.d" "$state/bird"
    cat >"$state/charon/strongswan.conf" <<EOF
charon {
  load_modular = no
  load = random nonce openssl pem pkcs1 x509 revocation constraints pubkey kdf aes sha1 sha2 hmac gcm gmp kernel-libipsec kernel-netlink socket-default vici updown counters
  install_routes = no
  install_virtual_ip = no
  routing_table = 220
  routing_table_prio = 32800
  filelog {
    bench {
      path = $state/charon/charon.log
      default = 1
    }
  }
  plugins {
    vici {
      socket = unix://$state/charon/charon.vici
    }
  }
}
include $state/charon/strongswan.d/*.conf
EOF
    # charon writes its pid file into /run: a private one, so no other charon's is touched.
    ip netns exec "$netns" unshare -m --propagation private sh -c \
      'mount -n -t tmpfs -o mode=0755 none /run && mkdir -p /run/strongswan && exec "$@"' sh \
      env STRONGSWAN_CONF="$state/charon/strongswan.conf" /usr/lib/ipsec/charon >"$state/charon/out" 2>&1 &
    echo $! >"$state/charon.pid"
    for _ in $(seq 100); do [ -S "$state/charon/charon.vici" ] && break; sleep 0.1; done
    ip netns exec "$netns" "$build/bin/ergwd" --config "$state/config-a.json" --state-dir "$state/ergwd" \
      --api-listen "127.0.0.1:$port" --socket "$state/api.sock" --vici "$state/charon/charon.vici" \
      --charon-settings "$state/charon/strongswan.d/ergwd.conf" --bird-dir "$state/bird" >"$state/log" 2>&1 &
    echo $! >"$state/ergwd.pid"
    for _ in $(seq 300); do [ -S "$state/api.sock" ] && [ -f "$state/ergwd/api/tls.crt" ] && break; sleep 0.1; done
    echo "$port $state/api.sock $state/ergwd/api/tls.crt 127.0.0.1 $(cat "$state/ergwd.pid")"
    ;;
  down)
    for daemon in ergwd charon; do
      pid=$(cat "$state/$daemon.pid" 2>/dev/null || true)
      [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    sleep 1
    for daemon in ergwd charon; do
      pid=$(cat "$state/$daemon.pid" 2>/dev/null || true)
      [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    done
    ip netns del "$netns" 2>/dev/null || true
    ;;
  *) echo "usage: ergwd_netns.sh up NETNS STATE BUILD | down NETNS STATE" >&2; exit 2 ;;
esac
