#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# What the flannel CNI plugin adds to pod network setup: median latency of
# ADD+DEL over N pods (default 100) through our plugin (which reads
# subnet.env, builds and saves the delegate configuration, then runs
# bridge), versus running Debian's bridge directly with the same delegate
# configuration. Everything happens in namespaces created here: one node
# namespace (where cni0 lives) and one pod namespace per iteration.
#
#   BUILD_DIR=build bench/cni.sh [pods]
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$src/build}
N=${1:-100}
[ "$(id -u)" -eq 0 ] || { echo "bench/cni.sh: needs root" >&2; exit 1; }

node=bcni-node-$$
pod=bcni-pod-$$
tmp=$(mktemp -d /tmp/bench-cni.XXXXXX)
cleanup() {
	ip netns del "$pod" 2>/dev/null || true
	ip netns del "$node" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$node"
ip -n "$node" link set lo up
mkdir -p "$tmp/bin"
cp "$BUILD_DIR/cmd/flannel" "$tmp/bin/flannel"
ln -s /usr/lib/cni/bridge "$tmp/bin/bridge"
ln -s /usr/lib/cni/host-local "$tmp/bin/host-local"
printf 'FLANNEL_NETWORK=198.18.0.0/16\nFLANNEL_SUBNET=198.18.7.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n' \
	>"$tmp/subnet.env"
cat >"$tmp/flannel.json" <<JSON
{"cniVersion":"1.0.0","name":"cbr0","type":"flannel","subnetFile":"$tmp/subnet.env",
 "dataDir":"$tmp/state","ipam":{"dataDir":"$tmp/ipam"},
 "delegate":{"hairpinMode":true,"isDefaultGateway":true}}
JSON

# One pod: ADD then DEL, timed together in microseconds.
run() {
	local plugin=$1 conf=$2 id=$3 t0 t1
	ip netns add "$pod"
	t0=$(date +%s%N)
	for cmd in ADD DEL; do
		ip netns exec "$node" env -i CNI_COMMAND=$cmd CNI_CONTAINERID="$id" \
			CNI_NETNS="/var/run/netns/$pod" CNI_IFNAME=eth0 CNI_PATH="$tmp/bin" \
			"$tmp/bin/$plugin" <"$conf" >/dev/null 2>&1 ||
			{ echo "bench/cni.sh: $plugin $cmd failed" >&2; exit 1; }
	done
	t1=$(date +%s%N)
	ip netns del "$pod"
	echo $(((t1 - t0) / 1000))
}

# The exact delegate configuration flannel saves, to feed bridge directly.
run flannel "$tmp/flannel.json" warmup >/dev/null
ip netns add "$pod"
ip netns exec "$node" env -i CNI_COMMAND=ADD CNI_CONTAINERID=conf CNI_NETNS="/var/run/netns/$pod" \
	CNI_IFNAME=eth0 CNI_PATH="$tmp/bin" "$tmp/bin/flannel" <"$tmp/flannel.json" >/dev/null 2>&1
cp "$tmp/state/conf" "$tmp/bridge.json"
ip netns exec "$node" env -i CNI_COMMAND=DEL CNI_CONTAINERID=conf CNI_NETNS="/var/run/netns/$pod" \
	CNI_IFNAME=eth0 CNI_PATH="$tmp/bin" "$tmp/bin/flannel" <"$tmp/flannel.json" >/dev/null 2>&1
ip netns del "$pod"

: >"$tmp/flannel.us"
: >"$tmp/bridge.us"
for i in $(seq "$N"); do
	# Interleaved so that drift affects both alike.
	run flannel "$tmp/flannel.json" "f$i" >>"$tmp/flannel.us"
	run bridge "$tmp/bridge.json" "b$i" >>"$tmp/bridge.us"
done

python3 - "$tmp/flannel.us" "$tmp/bridge.us" "$N" <<'PY'
import statistics, sys
f = [int(x) for x in open(sys.argv[1])]
b = [int(x) for x in open(sys.argv[2])]
def row(name, v):
    v = sorted(v)
    p90 = v[int(0.9 * (len(v) - 1))]
    print(f"{name:<28} {statistics.median(v) / 1000:>9.2f} {p90 / 1000:>9.2f} {v[0] / 1000:>9.2f}")
print(f"ADD+DEL latency over {sys.argv[3]} pods (ms)")
print(f"{'path':<28} {'median':>9} {'p90':>9} {'min':>9}")
row("flannel -> bridge", f)
row("bridge directly", b)
print(f"{'flannel overhead (median)':<28} {(statistics.median(f) - statistics.median(b)) / 1000:>9.2f}")
PY
