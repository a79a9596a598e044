#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Data-path benchmark: iperf3 TCP throughput pod to pod across two nodes,
# for one backend, next to host to host over the same underlay. Two nodes
# run the real flanneld against the test API server (test/system/
# cluster-lib.sh); the pods are wired by the real CNI plugin. For each of
# 1 and 4 parallel streams: underlay first (iperf3 between the two node
# namespaces over eth0), then pod to pod (server in a pod on node 2, client
# in a pod on node 1), so that both see the same machine state. This pair
# is repeated REPS times (default 3) and the medians are reported, since
# veth throughput on a shared 2-core machine varies from run to run.
#
#   BUILD_DIR=build bench/datapath.sh BACKEND SECONDS [REPS]
#   BACKEND: vxlan | vxlan-dr (vxlan with DirectRouting) | host-gw
#
# Prints one JSON object: {"backend", "seconds", "reps", "streams": {"1":
# {"underlay_bps", "pod_bps" (medians), "underlay_samples", "pod_samples"},
# "4": {...}}, "route"} (route = node 1's route to node 2's podCIDR).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
export SRC_DIR=$src
export BUILD_DIR=${BUILD_DIR:-$src/build}
name=${1:?usage: datapath.sh vxlan|vxlan-dr|host-gw SECONDS}
secs=${2:-10}
reps=${3:-3}

case $name in
vxlan) BACKEND=vxlan ;;
vxlan-dr) BACKEND='{"Type": "vxlan", "DirectRouting": true}' ;;
host-gw) BACKEND=host-gw ;;
*)
	echo "datapath.sh: unknown backend $name" >&2
	exit 2
	;;
esac
export BACKEND
command -v iperf3 >/dev/null || {
	echo "datapath.sh: iperf3 is not installed" >&2
	exit 1
}

P=bdp-${name//-/}-$$
. "$src/test/system/cluster-lib.sh"
trap cluster_cleanup EXIT

cluster_underlay
cluster_netconf
for n in 1 2; do cluster_node "$n"; done
for n in 1 2; do start_flanneld "$n"; done
for n in 1 2; do wait_for 30 "node $n ready" node_ready "$n"; done
add_pod 1 1
add_pod 2 1
dst=$(pod_ip 2 1)
wait_for 15 "pod 2/1 reachable from pod 1/1" pod_ping 1 1 "$dst"
route=$(in_node 1 ip route show 198.18.2.0/24)

listening() { ip netns exec "$1" ss -ltnH "src $2:5201" | grep -q .; }

# iperf3 CLIENT_NS SERVER_NS SERVER_IP STREAMS: received bits per second.
iperf() {
	local cns=$1 sns=$2 ip=$3 streams=$4 out spid
	out=$WORK/iperf-$cns-$streams.json
	ip netns exec "$sns" iperf3 -s -1 -B "$ip" >"$WORK/iperf-server.log" 2>&1 &
	spid=$!
	CLUSTER_PIDS+=("$spid")
	wait_for 10 "iperf3 server in $sns" listening "$sns" "$ip"
	ip netns exec "$cns" iperf3 -c "$ip" -t "$secs" -P "$streams" -J >"$out" ||
		fail "iperf3 $cns -> $ip ($streams streams): $(cat "$out")"
	wait "$spid" || true
	python3 -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]))' "$out"
}

: >"$WORK/samples"
for r in $(seq "$reps"); do
	for s in 1 4; do
		u=$(iperf "$(ns_of 1)" "$(ns_of 2)" 203.0.113.2 "$s")
		p=$(iperf "$(pod_ns 1 1)" "$(pod_ns 2 1)" "$dst" "$s")
		echo "$s $u $p" >>"$WORK/samples"
		echo "datapath: $name, run $r, $s stream(s): underlay $u bit/s, pod $p bit/s" >&2
	done
done

python3 - "$name" "$secs" "$reps" "$route" "$WORK/samples" <<'PY'
import json, statistics, sys
name, secs, reps, route, samples = sys.argv[1:]
streams = {}
for line in open(samples):
    s, u, p = line.split()
    d = streams.setdefault(s, {"underlay_samples": [], "pod_samples": []})
    d["underlay_samples"].append(int(u))
    d["pod_samples"].append(int(p))
for d in streams.values():
    d["underlay_bps"] = statistics.median(d["underlay_samples"])
    d["pod_bps"] = statistics.median(d["pod_samples"])
print(json.dumps({"backend": name, "seconds": int(secs), "reps": int(reps), "route": route,
                  "streams": streams}))
PY
