#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The own Node comes ahead of the node list: while the API server holds
# every node LIST (as a huge cluster's list takes seconds), a starting
# flanneld still writes subnet.env from its own Node (GET) and publishes its
# annotations, so pods can start; it is not ready and has programmed no
# peer until the list is in, then it programs the peers and turns ready.
set -euo pipefail
P=sys-of-$$
. "$(dirname "$0")/cluster-lib.sh"
trap cluster_cleanup EXIT

subnet_env_has() { grep -q "^FLANNEL_SUBNET=$2\$" "$WORK/n$1/run/subnet.env"; }
published() {
	kctl get-node name="node-$1" | grep -q '"flannel.alpha.coreos.com/public-ip": "203.0.113.'"$1"'"'
}
route_to() { output_has "^198\.18\.$2\.0/24 via 198\.18\.$2\.0 dev flannel\.1 .*onlink" in_node "$1" ip route show "198.18.$2.0/24"; }
readyz_code() {
	in_node "$1" python3 -c '
import urllib.request, urllib.error
try:
    print(urllib.request.urlopen("http://127.0.0.1:8081/readyz", timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)'
}

cluster_underlay
cluster_netconf
for n in 1 2; do cluster_node "$n"; done
start_flanneld 2
wait_for 30 "node 2 ready" node_ready 2

kctl hold-lists hold=true >/dev/null
start_flanneld 1 --v=1
wait_for 30 "subnet.env on node 1 while the list is held" subnet_env_has 1 198.18.1.1/24
wait_for 30 "node 1's annotations while the list is held" published 1
ok "subnet.env written and annotations published from the own Node alone"
grep -q 'Got node "node-1" at resourceVersion [0-9]* ahead of the node list' "$WORK/n1/flanneld.log" ||
	fail "node 1 did not log its GET of the own Node"
# Held: the list never came, so node 1 knows no peer and is not ready.
sleep 1
[ "$(readyz_code 1)" = 503 ] || fail "node 1 ready before its node list"
route_to 1 2 && fail "node 1 programmed node 2 before its node list"
ok "not ready and no peer programmed while the list is held"

kctl hold-lists hold=false >/dev/null
wait_for 30 "node 1 ready after the list" node_ready 1
# Programmed because the list came, not by the first periodic check 10 s
# after the lease.
[ "$(metric 1 flannel_drift_checks_total)" = 0 ] ||
	fail "node 1 became ready only after a periodic check, not when its list came"
route_to 1 2 || fail "no route to node 2 on node 1 once ready"
wait_for 30 "node 2's route to node 1" route_to 2 1
ok "the list released: node 1 programmed node 2 and is ready"
