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
# CPU: the machine's busy time (all cores, /proc/stat) during each run, in
# CPU-seconds per Gbit transferred; for wireguard also the two wireguard-go
# processes' own CPU time. Machine-wide, so other load on the machine counts.
#
#   BUILD_DIR=build bench/datapath.sh BACKEND SECONDS [REPS]
#   BACKEND: vxlan | vxlan-dr (vxlan with DirectRouting) | host-gw |
#            wireguard (userspace: wireguard-go, FLANNEL_WIREGUARD=userspace)
#
# Prints one JSON object: {"backend", "seconds", "reps", "streams": {"1":
# {"underlay_bps", "pod_bps" (medians), "underlay_samples", "pod_samples",
# "underlay_cpu_s_per_gbit", "pod_cpu_s_per_gbit", "wg_cpu_s_per_gbit"
# (medians)}, "4": {...}}, "route"} (route = node 1's route to node 2's
# podCIDR; for wireguard its device's route to the Network).
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
wireguard) BACKEND=wireguard ;;
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
for n in 1 2; do
	cluster_node "$n"
	# wireguard-go's sockets: one /run/wireguard per node (cluster-lib.sh).
	[ "$name" = wireguard ] && node_mount_ns "$n"
done
for n in 1 2; do
	FLANNELD_ENV="FLANNEL_WIREGUARD=userspace WIREGUARD_KEY_FILE=$WORK/n$n/run/wgkey" \
		start_flanneld "$n"
done
for n in 1 2; do wait_for 30 "node $n ready" node_ready "$n"; done
add_pod 1 1
add_pod 2 1
dst=$(pod_ip 2 1)
wait_for 15 "pod 2/1 reachable from pod 1/1" pod_ping 1 1 "$dst"
route=$(in_node 1 ip route get "$dst" | head -1)

# Busy jiffies of the machine (user..steal, without idle and iowait).
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
# CPU jiffies (utime + stime) of the nodes' wireguard-go processes.
wg_cpu() {
	local n pid t=0
	for n in 1 2; do
		for pid in $(ip netns pids "$(ns_of "$n")"); do
			[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" = "wireguard-go -f flannel-wg " ] || continue
			t=$((t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
		done
	done
	echo "$t"
}

listening() { ip netns exec "$1" ss -ltnH "src $2:5201" | grep -q .; }

# iperf3 CLIENT_NS SERVER_NS SERVER_IP STREAMS: received bits per second.
iperf() {
	local cns=$1 sns=$2 ip=$3 streams=$4 out spid
	out=$WORK/iperf-$cns-$streams.json
	ip netns exec "$sns" iperf3 -s -1 -B "$ip" >"$WORK/iperf-server.log" 2>&1 &
	spid=$!
	CLUSTER_PIDS+=("$spid")
	wait_for 10 "iperf3 server in $sns" listening "$sns" "$ip"
	local b0 w0 b1 w1
	b0=$(busy)
	w0=$(wg_cpu)
	ip netns exec "$cns" iperf3 -c "$ip" -t "$secs" -P "$streams" -J >"$out" ||
		fail "iperf3 $cns -> $ip ($streams streams): $(cat "$out")"
	b1=$(busy)
	w1=$(wg_cpu)
	wait "$spid" || true
	# bits/s, then CPU-seconds of the machine and of wireguard-go per Gbit received.
	python3 -c '
import json, os, sys
end = json.load(open(sys.argv[1]))["end"]["sum_received"]
hz = os.sysconf("SC_CLK_TCK")
gbit = end["bytes"] * 8 / 1e9
print(int(end["bits_per_second"]), "%.4f" % ((int(sys.argv[3]) - int(sys.argv[2])) / hz / gbit),
      "%.4f" % ((int(sys.argv[5]) - int(sys.argv[4])) / hz / gbit))' "$out" "$b0" "$b1" "$w0" "$w1"
}

: >"$WORK/samples"
for r in $(seq "$reps"); do
	for s in 1 4; do
		u=$(iperf "$(ns_of 1)" "$(ns_of 2)" 203.0.113.2 "$s")
		p=$(iperf "$(pod_ns 1 1)" "$(pod_ns 2 1)" "$dst" "$s")
		echo "$s $u $p" >>"$WORK/samples"
		echo "datapath: $name, run $r, $s stream(s): underlay $u, pod $p (bit/s, CPU s/Gbit, wireguard-go CPU s/Gbit)" >&2
	done
done

python3 - "$name" "$secs" "$reps" "$route" "$WORK/samples" <<'PY'
import json, statistics, sys
name, secs, reps, route, samples = sys.argv[1:]
streams = {}
for line in open(samples):
    s, u, ucpu, _, p, pcpu, wcpu = line.split()
    d = streams.setdefault(s, {"underlay_samples": [], "pod_samples": [], "ucpu": [], "pcpu": [], "wcpu": []})
    d["underlay_samples"].append(int(u))
    d["pod_samples"].append(int(p))
    d["ucpu"].append(float(ucpu))
    d["pcpu"].append(float(pcpu))
    d["wcpu"].append(float(wcpu))
for d in streams.values():
    d["underlay_bps"] = statistics.median(d["underlay_samples"])
    d["pod_bps"] = statistics.median(d["pod_samples"])
    d["underlay_cpu_s_per_gbit"] = statistics.median(d.pop("ucpu"))
    d["pod_cpu_s_per_gbit"] = statistics.median(d.pop("pcpu"))
    d["wg_cpu_s_per_gbit"] = statistics.median(d.pop("wcpu"))
print(json.dumps({"backend": name, "seconds": int(secs), "reps": int(reps), "route": route,
                  "streams": streams}))
PY
