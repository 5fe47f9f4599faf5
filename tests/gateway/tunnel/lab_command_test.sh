#!/usr/bin/env bash
# `ergw lab`, the README's main command: (1) a whole run exits 0 with the
# tunnel, status, ping and throughput in its output and leaves nothing behind;
# (2) Ctrl-C in the middle tears everything down; (3) --keep leaves the lab and
# `ergw lab down` removes it.  usage: lab_command_test.sh ERGW SOURCE_DIR  (root)
set -u
ergw=$1 src=$2
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 0; }
cd "$src" || exit 1
tmp=$(mktemp -d)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
labs_of() { ip netns list | grep -c "^ergw-$1-" ; }
labid_in() { sed -n 's/^\[lab \([0-9a-z]*\)\].*/\1/p' "$1" | head -1; }
cleanup() { [ -n "${bg:-}" ] && kill -9 "$bg" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# 1. A whole run.
"$ergw" lab --iperf-seconds 2 >"$tmp/run.out" 2>&1; rc=$?
[ $rc -eq 0 ] || { fail "ergw lab exited $rc"; tail -30 "$tmp/run.out"; }
for want in 'waiting for the tunnel' '\$ ergw status' 'ESTABLISHED' 'replies' 'throughput [0-9]* Mbit/s' 'gone'; do
  grep -q "$want" "$tmp/run.out" || fail "ergw lab output lacks: $want"
done
id=$(labid_in "$tmp/run.out")
[ -n "$id" ] || fail "no lab id in the output"
[ "$(labs_of "$id")" -eq 0 ] || fail "namespaces of lab $id left behind"
[ -d "/run/ergw-lab/$id" ] && fail "state directory of lab $id left behind"

# 2. Ctrl-C while the tunnel is up.
"$ergw" lab --iperf-seconds 30 >"$tmp/int.out" 2>&1 &
bg=$!
for _ in $(seq 600); do grep -q 'iperf3 on-prem' "$tmp/int.out" && break; sleep 0.1; done
grep -q 'iperf3 on-prem' "$tmp/int.out" || fail "the interrupted run never reached traffic"
id=$(labid_in "$tmp/int.out")
kill -INT "$bg"
for _ in $(seq 150); do kill -0 "$bg" 2>/dev/null || break; sleep 0.1; done
kill -0 "$bg" 2>/dev/null && fail "ergw lab did not stop on SIGINT"
wait "$bg" 2>/dev/null; bg=
sleep 0.5
[ -n "$id" ] && [ "$(labs_of "$id")" -ne 0 ] && fail "Ctrl-C left namespaces of lab $id"
pgrep -f "ergw-lab/$id/" >/dev/null && fail "Ctrl-C left daemons of lab $id"

# 3. --keep, then ergw lab down.
"$ergw" lab --keep --iperf-seconds 1 >"$tmp/keep.out" 2>&1 || fail "ergw lab --keep failed"
id=$(labid_in "$tmp/keep.out")
[ "$(labs_of "$id")" -eq 4 ] || fail "--keep did not keep the 4 namespaces of lab $id"
"$ergw" status --socket "/run/ergw-lab/$id/ergwd.sock" | grep -q ' UP ' || fail "the kept lab's tunnel is not up"
"$ergw" lab down "$id" || fail "ergw lab down $id failed"
[ "$(labs_of "$id")" -eq 0 ] || fail "ergw lab down left namespaces"
pgrep -f "ergw-lab/$id/" >/dev/null && fail "ergw lab down left daemons"

echo "lab_command_test: $failures failure(s)"
[ $failures -eq 0 ]
