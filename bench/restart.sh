#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Restart disruption: two nodes (vxlan, real flanneld, pods through the real
# CNI plugin, test/system/cluster-lib.sh). A pod on node 2 pings a pod on
# node 1 at 100 packets/s (bench/pinger.py) while flanneld on node 1 is stopped (SIGTERM) and
# started again CYCLES times, each time waiting until it is ready again and
# one more second. bench/nlmon.py watches node 1's kernel meanwhile.
#
#   BUILD_DIR=build bench/restart.sh [CYCLES] [BACKEND]
#
# BACKEND vxlan (default) or wireguard (userspace: wireguard-go in the
# node's own mount namespace, FLANNEL_WIREGUARD=userspace); for wireguard
# the overlay entries are the Network route and the flannel-wg link.
#
# Prints one JSON object: {"cycles", "sent", "received", "lost",
# "longest_outage_ms" (bench/pinger.py), "deleted": [the kernel entries of
# the overlay that were deleted]}.
# Counted as overlay entries: routes inside the pod network, the peer's
# neighbour (its VTEP address) and FDB entry (its VTEP MAC), and the
# flannel.1 and cni0 links.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
export SRC_DIR=$src
export BUILD_DIR=${BUILD_DIR:-$src/build}
cycles=${1:-3}
backend=${2:-vxlan}
export BACKEND=$backend

P=brs-$$
. "$src/test/system/cluster-lib.sh"
trap cluster_cleanup EXIT

cluster_underlay
cluster_netconf
for n in 1 2; do
	cluster_node "$n"
	[ "$backend" = wireguard ] && node_mount_ns "$n"
done
start_node() {
	FLANNELD_ENV="FLANNEL_WIREGUARD=userspace WIREGUARD_KEY_FILE=$WORK/n$1/run/wgkey" start_flanneld "$1"
}
for n in 1 2; do start_node "$n"; done
for n in 1 2; do wait_for 30 "node $n ready" node_ready "$n"; done
add_pod 1 1
add_pod 2 1
dst=$(pod_ip 1 1)
wait_for 15 "pod 1/1 reachable from pod 2/1" pod_ping 2 1 "$dst"
vtep_mac=$(kctl get-node name=node-2 | python3 -c '
import json, sys
n = json.load(sys.stdin)["node"]
print(json.loads(n["metadata"]["annotations"]["flannel.alpha.coreos.com/backend-data"]).get("VtepMAC", "-"))')

ip netns exec "$(ns_of 1)" python3 "$src/bench/nlmon.py" >"$WORK/nlmon" &
CLUSTER_PIDS+=($!)
wait_for 10 "the netlink monitor" grep -q READY "$WORK/nlmon"

ip netns exec "$(pod_ns 2 1)" python3 "$src/bench/pinger.py" "$dst" 100 >"$WORK/ping" 2>&1 &
ping_pid=$!
CLUSTER_PIDS+=("$ping_pid")
sleep 1
for c in $(seq "$cycles"); do
	stop_flanneld 1
	start_node 1
	wait_for 30 "node 1 ready again (cycle $c)" node_ready 1
	sleep 1
	echo "restart: cycle $c done" >&2
done
kill -INT "$ping_pid"
wait "$ping_pid" || true
grep -q '"sent"' "$WORK/ping" || fail "pinger.py printed no summary: $(tail -3 "$WORK/ping")"

python3 - "$WORK/ping" "$WORK/nlmon" "$cycles" "$vtep_mac" "$backend" <<'PY'
import ipaddress, json, sys
ping, nlmon, cycles, mac = sys.argv[1:5]
probe = json.load(open(ping))
pods = ipaddress.ip_network("198.18.0.0/16")
deleted = []
for line in open(nlmon):
    f = line.split()
    if len(f) < 4 or f[1] != "-":
        continue
    kind, key = f[2], f[3]
    net = ipaddress.ip_network(key, strict=False) if kind == "route" else None
    ours = ((net is not None and net.version == 4 and net.subnet_of(pods))
            or (kind == "neigh" and key == "198.18.2.0")
            or (kind == "fdb" and key == mac.lower())
            or (kind == "link" and key in ("flannel.1", "flannel-wg", "cni0")))
    if ours:
        deleted.append("%s %s" % (kind, key))
probe.update(cycles=int(cycles), deleted=deleted, backend=sys.argv[5])
print(json.dumps(probe))
PY
