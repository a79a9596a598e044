#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Network policy benchmark (issue 14), JSON on stdout:
#
#   scale      test/netpol-bench in a namespace of its own: PODS simulated pods
#              (100 per namespace and per node), POLICIES policies, the table
#              applied to that namespace's kernel; then CHANGES changes (pod
#              relabel, namespace relabel, policy update, in turn), each timed
#              from the object's arrival (parse) until `nft -f` returned:
#              p50/p99 per kind; cache and heap bytes per pod and per policy.
#   datapath   two nodes (host-gw style routes over an underlay bridge, pods on
#              cni0), iperf3 TCP from a pod on node 1 to a pod on node 2: with
#              no table, then with POLICIES policies whose table isolates both
#              pods (the allowing policy evaluated last), REPS runs of SECS s each.
#
#   bench/netpol.sh [PODS POLICIES CHANGES SECS REPS]   (defaults 50000 1000 300 10 3)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
: "${BUILD_DIR:?BUILD_DIR must be set}"
PODS=${1:-50000}
POLICIES=${2:-1000}
CHANGES=${3:-300}
SECS=${4:-10}
REPS=${5:-3}
BENCH=$BUILD_DIR/test/netpol-bench
DRIVER=$BUILD_DIR/test/netpol-driver
for prog in "$BENCH" "$DRIVER"; do
	[ -x "$prog" ] || {
		echo "netpol.sh: $prog is not built" >&2
		exit 1
	}
done

P=npb-$$
TMP=$(mktemp -d "/tmp/$P.XXXXXX")
NSS=()
cleanup() {
	local ns
	for ns in "${NSS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
mkns() {
	ip netns add "$1"
	NSS+=("$1")
	ip -n "$1" link set lo up
}

# ---- scale ----
mkns "$P-scale"
ip netns exec "$P-scale" "$BENCH" --pods "$PODS" --policies "$POLICIES" --changes "$CHANGES" \
	>"$TMP/scale.json" 2>"$TMP/scale.log" || {
	cat "$TMP/scale.log" >&2
	exit 1
}
ip netns del "$P-scale"

# ---- datapath ----
mkns "$P-ul"
ip -n "$P-ul" link add br0 type bridge
ip -n "$P-ul" link set br0 up
for n in 1 2; do
	node=$P-n$n pod=$P-p$n
	mkns "$node"
	mkns "$pod"
	ip -n "$P-ul" link add "vn$n" type veth peer name eth0 netns "$node"
	ip -n "$P-ul" link set "vn$n" master br0 up
	ip -n "$node" link set eth0 up
	ip -n "$node" addr add "203.0.113.$n/24" dev eth0
	ip netns exec "$node" sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
	ip -n "$node" link add cni0 type bridge
	ip -n "$node" link set cni0 up
	ip -n "$node" addr add "198.18.$n.1/24" dev cni0
	ip -n "$node" route add "198.18.$((3 - n)).0/24" via "203.0.113.$((3 - n))" dev eth0
	ip -n "$node" link add "vp$n" type veth peer name eth0 netns "$pod"
	ip -n "$node" link set "vp$n" master cni0 up
	ip -n "$pod" link set eth0 up
	ip -n "$pod" addr add "198.18.$n.2/24" dev eth0
	ip -n "$pod" route add default via "198.18.$n.1"
done
ip netns exec "$P-p2" iperf3 -s -D -p 5201 >/dev/null

# The objects: two pods, POLICIES policies in their namespace. Every policy
# selects both pods (ingress and egress); all but the last allow only peers and
# ports that never occur, the last allows the client's address on 5201.
python3 - "$TMP/objects.json" "$POLICIES" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
items = [{"kind": "Namespace", "metadata": {"name": "b", "labels": {"kubernetes.io/metadata.name": "b"}}}]
for i in (1, 2):
    items.append({"kind": "Pod", "metadata": {"namespace": "b", "name": "p%d" % i, "labels": {"app": "iperf", "n": str(i)}},
                  "spec": {"nodeName": "n%d" % i, "containers": [{"name": "c", "ports": [{"name": "iperf", "containerPort": 5201}]}]},
                  "status": {"phase": "Running", "podIP": "198.18.%d.2" % i}})
for k in range(n):
    last = k == n - 1
    peer = ({"ipBlock": {"cidr": "198.18.0.0/16"}} if last else
            {"namespaceSelector": {"matchLabels": {"team": "t%d" % k}}, "podSelector": {"matchLabels": {"app": "a%d" % k}}})
    port = [{"port": "iperf"}] if last else [{"protocol": "TCP", "port": 10000 + k}]
    items.append({"kind": "NetworkPolicy", "metadata": {"namespace": "b", "name": "pol-%d" % k},
                  "spec": {"podSelector": {"matchLabels": {"app": "iperf"}},
                           "ingress": [{"from": [peer], "ports": port}],
                           "egress": [{"to": [peer], "ports": [{"protocol": "TCP", "port": 5201} if last else port[0]]}],
                           "policyTypes": ["Ingress", "Egress"]}})
json.dump({"kind": "List", "items": items}, open(path, "w"))
PY

run_iperf() { # prints Gbit/s of one run
	ip netns exec "$P-p1" iperf3 -c 198.18.2.2 -p 5201 -t "$SECS" -J |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9)'
}
none=()
with=()
for rep in $(seq "$REPS"); do
	for n in 1 2; do
		ip netns exec "$P-n$n" "$DRIVER" --remove >/dev/null 2>&1
	done
	none+=("$(run_iperf)")
	for n in 1 2; do
		ip netns exec "$P-n$n" "$DRIVER" --node "n$n" "$TMP/objects.json" >>"$TMP/driver.log" 2>&1
	done
	with+=("$(run_iperf)")
done
chains=$(ip netns exec "$P-n2" nft list table inet flannel-netpol | grep -c '^	chain p' || true)

python3 - "$TMP/scale.json" "$chains" "${none[*]}" "${with[*]}" <<'PY'
import json, statistics, sys
scale = json.load(open(sys.argv[1]))
none = [float(x) for x in sys.argv[3].split()]
with_ = [float(x) for x in sys.argv[4].split()]
print(json.dumps({"scale": scale, "datapath": {
    "policy_chains_on_server_node": int(sys.argv[2]),
    "none_gbps": none, "with_gbps": with_,
    "ratio": statistics.median(with_) / statistics.median(none)}}, indent=1))
PY
