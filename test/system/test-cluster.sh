#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Three flanneld agents (vxlan) against the test API server, each in its own
# namespace (topology in cluster-lib.sh): they learn each other's leases,
# publish exactly upstream's annotations, become ready only after the first
# reconcile, and pods wired by the real CNI plugin reach each other across
# nodes. Then: /metrics and the status view, a route deleted by hand is
# reported and repaired, SIGTERM leaves the datapath in place, and a restart
# with unchanged leases changes nothing in the kernel.
set -euo pipefail
P=sys-cl-$$
. "$(dirname "$0")/cluster-lib.sh"
trap cluster_cleanup EXIT

cluster_underlay
cluster_netconf
for n in 1 2 3; do cluster_node "$n"; done

# Node 3 has no podCIDR at first: its agent must wait, not ready, and not exit.
kctl modify-node name=node-3 podCIDR=null podCIDRs=null >/dev/null
for n in 1 2 3; do start_flanneld "$n"; done

for n in 1 2; do wait_for 30 "node $n ready" node_ready "$n"; done
ok "nodes 1 and 2 ready"
sleep 1
kill -0 "${FLANNELD_PID[3]}" || fail "flanneld on node 3 exited while waiting for a podCIDR"
node_ready 3 && fail "node 3 is ready without a podCIDR"
grep -q "podCIDR" "$WORK/n3/flanneld.log" || fail "node 3 does not say it waits for a podCIDR"
ok "node 3 waits for its podCIDR, not ready, still running"
kctl modify-node name=node-3 podCIDR=198.18.3.0/24 >/dev/null
wait_for 30 "node 3 ready" node_ready 3
ok "node 3 ready once the podCIDR is assigned"

# Annotations: exactly upstream's, and NetworkUnavailable=False/FlannelIsUp.
for n in 1 2 3; do
	kctl get-node "name=node-$n" >"$WORK/node-$n.json"
	python3 - "$WORK/node-$n.json" "$n" <<'PY'
import json, sys
node = json.load(open(sys.argv[1]))["node"]
n = sys.argv[2]
ann = node["metadata"]["annotations"]
p = "flannel.alpha.coreos.com/"
assert ann[p + "backend-type"] == "vxlan", ann
data = json.loads(ann[p + "backend-data"])
assert set(data) == {"VNI", "VtepMAC"} and data["VNI"] == 1, data
assert ann[p + "kube-subnet-manager"] == "true", ann
assert ann[p + "public-ip"] == "203.0.113." + n, ann
conds = {c["type"]: c for c in node["status"].get("conditions", [])}
c = conds["NetworkUnavailable"]
assert c["status"] == "False" and c["reason"] == "FlannelIsUp", c
PY
done
ok "annotations and NetworkUnavailable condition as upstream"

# subnet.env as upstream.
diff -u - "$WORK/n2/run/subnet.env" <<-EOF || fail "subnet.env of node 2"
	FLANNEL_NETWORK=198.18.0.0/16
	FLANNEL_SUBNET=198.18.2.1/24
	FLANNEL_MTU=1450
	FLANNEL_IPMASQ=true
	EOF
ok "subnet.env"

# Kernel state on node 1: device, and per peer route/neigh/FDB.
in_node 1 ip -d link show flannel.1 | grep -q "vxlan id 1 local 203.0.113.1" || fail "flannel.1 on node 1"
for m in 2 3; do
	in_node 1 ip route show "198.18.$m.0/24" | grep -q "via 198.18.$m.0 dev flannel.1 .*onlink" ||
		fail "route to node $m on node 1"
done
ok "device and routes on node 1"

# Two pods per node through the real CNI plugin; full connectivity matrix.
for n in 1 2 3; do for i in 1 2; do add_pod "$n" "$i"; done; done
for n in 1 2 3; do for i in 1 2; do
	for m in 1 2 3; do for j in 1 2; do
		[ "$n$i" = "$m$j" ] && continue
		dst=$(pod_ip "$m" "$j")
		pod_ping "$n" "$i" "$dst" || fail "pod $n/$i cannot reach pod $m/$j ($dst)"
	done; done
done; done
ok "pod-to-pod connectivity matrix (6 pods, 30 pairs)"

# Metrics: the documented families are there and consistent.
http_get 1 /metrics >"$WORK/metrics"
for fam in flannel_build_info flannel_ready flannel_peers flannel_reconcile_total \
	flannel_reconcile_duration_seconds_bucket flannel_reconcile_errors_total \
	flannel_netlink_operations_total flannel_kube_watch_restarts_total flannel_kube_relists_total \
	flannel_kube_api_requests_total flannel_kube_api_request_duration_seconds_bucket \
	flannel_kube_last_sync_timestamp_seconds flannel_drift_found_total; do
	grep -q "^$fam" "$WORK/metrics" || fail "metric $fam missing"
done
grep -qx "flannel_peers 2" "$WORK/metrics" || fail "flannel_peers is not 2"
grep -qx "flannel_ready 1" "$WORK/metrics" || fail "flannel_ready is not 1"
ok "metrics"

# Status view: a route deleted by hand is repaired, and drift is counted.
in_node 1 ip route del 198.18.2.0/24
route_back() { in_node 1 ip route show 198.18.2.0/24 | grep -q flannel.1; }
wait_for 15 "route to node 2 repaired" route_back
in_node 1 "$FLANNELD" status >"$WORK/status.txt" || fail "flanneld status"
grep -q "node-2 .*198.18.2.0/24 .*203.0.113.2 .*ok .*ok .*ok" "$WORK/status.txt" ||
	{ cat "$WORK/status.txt"; fail "status view lacks node-2's healthy row"; }
in_node 1 "$FLANNELD" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["ready"] and s["driftFound"] >= 1 and s["driftRepaired"] >= 1, s
assert sorted(p["name"] for p in s["peers"]) == ["node-2", "node-3"], s
'
ok "status view and drift repair"

# SIGTERM leaves the datapath in place; a restart changes nothing in the kernel.
stop_flanneld 2
grep -q "Exiting cleanly" "$WORK/n2/flanneld.log" || fail "no clean exit on SIGTERM"
in_node 2 ip route show 198.18.1.0/24 | grep -q flannel.1 || fail "SIGTERM removed a route"
pod_ping 1 1 "$(pod_ip 2 1)" || fail "pods lost connectivity while flanneld was stopped"
in_node 2 ip monitor route neigh link >"$WORK/monitor" 2>&1 &
mon=$!
CLUSTER_PIDS+=($mon)
sleep 0.5
start_flanneld 2
wait_for 30 "node 2 ready again" node_ready 2
sleep 1
kill "$mon"
wait "$mon" 2>/dev/null || true
# (The kernel's own ARP for the node's pods on cni0 may move on meanwhile: not flanneld's.)
if grep -E "flannel|198\.18\." "$WORK/monitor" | grep -v " dev cni0 "; then
	fail "restart with unchanged leases changed kernel state"
fi
ok "SIGTERM kept the datapath; restart made no kernel change"
