# Sourced by the shell tests of the API: starts api_test_server (the real
# management service over the fake backend) in a state directory of its own,
# sets $state, $server_pid and $port, and removes both on every exit path.
#   start_api_test_server BINARY NAME
# The SKIP exit (77) when not root: the local socket is root's.
fail() { echo "FAIL: $*" >&2; exit 1; }

start_api_test_server() {
  local binary=$1 name=$2
  if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (the local socket is root's)"; exit 77; fi
  state=$(mktemp -d "/tmp/ergw-$name.XXXXXX")
  server_pid=
  trap 'if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
        rm -rf "$state"' EXIT
  "$binary" --state-dir "$state" --socket "$state/api.sock" >"$state/out" 2>"$state/log" &
  server_pid=$!
  for _ in $(seq 300); do grep -q ready "$state/out" 2>/dev/null && break; sleep 0.1; done
  port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$state/out")
  [ -n "$port" ] || fail "server did not start: $(cat "$state/log")"
}
