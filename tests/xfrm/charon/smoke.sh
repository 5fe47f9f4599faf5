#!/usr/bin/env bash
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ERGW_BIN=${ERGW_BIN:-$here/../../../build/bin}
ERGW_PLUGIN_DIR=${ERGW_PLUGIN_DIR:-$here/../../../build/lib/charon-plugins}
LAB_KEEP_DIR=1
source "$here/../fastpath/lab_topology.sh"
source "$here/ike_lab.sh"
ike_skip_unless_ready
lab_create || exit 1
IKE_PSK=$(openssl rand -base64 32)
IKE_INSTALL_ROUTES=no ike_write_config gwa "${1:-aes256gcm16}"
ike_write_config gwb "${1:-aes256gcm16}"
ike_start_fastpath gwa || exit 1
ike_start_charon gwa || exit 1
ike_start_charon gwb || exit 1
ike_swanctl gwa --initiate --child lab --timeout 15
ike_wait_traffic && echo TRAFFIC OK || echo NO TRAFFIC
lab_in "$LAB_ONPREM" ping -c 3 10.0.2.10
ike_swanctl gwa --list-sas
ike_fastpath_counters gwa | cut -c1-300
cat $LAB_DIR/fastpath-gwa.log | grep -v counters
grep -i 'ergw\|error\|fail' $LAB_DIR/charon-gwa/charon.log | head -30
echo dir $LAB_DIR
