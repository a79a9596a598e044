#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Pod network setup latency: ADD+DEL of N pods (default 100) through
#   - flannel built-in: the plugin wires the pod itself (mode "builtin");
#   - flannel -> bridge: delegate mode, the plugin runs bridge + host-local;
#   - bridge directly: Debian's bridge (+ host-local) with the delegate
#     configuration flannel saves, i.e. without flannel;
#   - veth pair alone: `ip link add ... peer ... netns POD` then
#     `ip link del`, the kernel work every path above includes (iproute2,
#     a dynamically linked binary, for the two process runs): a floor.
# The four are interleaved pod by pod, so that drift affects them alike.
# Each pod gets a fresh namespace; the timed part is the plugin processes
# alone, run from a shell already inside the node namespace (as a runtime
# execs a plugin); ADD and DEL are also reported apart. Everything happens
# in namespaces created here.
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
for mode in builtin delegate; do
	cat >"$tmp/$mode.json" <<JSON
{"cniVersion":"1.0.0","name":"cbr0","type":"flannel","mode":"$mode","subnetFile":"$tmp/subnet.env",
 "dataDir":"$tmp/state","ipam":{"dataDir":"$tmp/ipam"},
 "delegate":{"hairpinMode":true,"isDefaultGateway":true}}
JSON
done

# One pod: ADD then DEL, in microseconds each.
run() {
	local plugin=$1 conf=$2 id=$3
	ip netns add "$pod"
	ip netns exec "$node" bash -c '
		t=()
		for cmd in ADD DEL; do
			t0=${EPOCHREALTIME/./}
			CNI_COMMAND=$cmd CNI_CONTAINERID=$3 CNI_NETNS=/var/run/netns/$4 CNI_IFNAME=eth0 \
				CNI_PATH=$5 "$5/$1" <"$2" >/dev/null 2>&1 ||
				{ echo "bench/cni.sh: $1 $cmd failed" >&2; exit 1; }
			t1=${EPOCHREALTIME/./}
			t+=($((t1 - t0)))
		done
		echo "${t[@]}"' _ "$plugin" "$conf" "$id" "$pod" "$tmp/bin"
	ip netns del "$pod"
}

# The same for a bare veth pair made and deleted by ip.
run_ip() {
	ip netns add "$pod"
	ip netns exec "$node" bash -c '
		t0=${EPOCHREALTIME/./}
		ip link add veth-bench type veth peer name eth0 netns "$1" || exit 1
		t1=${EPOCHREALTIME/./}
		ip link del veth-bench || exit 1
		t2=${EPOCHREALTIME/./}
		echo $((t1 - t0)) $((t2 - t1))' _ "$pod"
	ip netns del "$pod"
}

# The exact delegate configuration flannel saves, to feed bridge directly.
run flannel "$tmp/delegate.json" warmup >/dev/null
run flannel "$tmp/builtin.json" warmup >/dev/null
ip netns add "$pod"
ip netns exec "$node" env -i CNI_COMMAND=ADD CNI_CONTAINERID=conf CNI_NETNS="/var/run/netns/$pod" \
	CNI_IFNAME=eth0 CNI_PATH="$tmp/bin" "$tmp/bin/flannel" <"$tmp/delegate.json" >/dev/null 2>&1
cp "$tmp/state/conf" "$tmp/bridge.json"
ip netns exec "$node" env -i CNI_COMMAND=DEL CNI_CONTAINERID=conf CNI_NETNS="/var/run/netns/$pod" \
	CNI_IFNAME=eth0 CNI_PATH="$tmp/bin" "$tmp/bin/flannel" <"$tmp/delegate.json" >/dev/null 2>&1
ip netns del "$pod"

: >"$tmp/builtin.us"
: >"$tmp/delegate.us"
: >"$tmp/bridge.us"
: >"$tmp/veth.us"
for i in $(seq "$N"); do
	run flannel "$tmp/builtin.json" "i$i" >>"$tmp/builtin.us"
	run flannel "$tmp/delegate.json" "f$i" >>"$tmp/delegate.us"
	run bridge "$tmp/bridge.json" "b$i" >>"$tmp/bridge.us"
	run_ip >>"$tmp/veth.us"
done

python3 - "$tmp" "$N" <<'PY'
import statistics, sys
d, n = sys.argv[1], sys.argv[2]
rows = [("flannel built-in", "builtin"), ("flannel -> bridge", "delegate"),
        ("bridge directly", "bridge"), ("veth pair alone (ip link)", "veth")]
def load(f):
    return [tuple(int(x) for x in line.split()) for line in open(f"{d}/{f}.us")]
print(f"ADD+DEL latency over {n} pods (ms)")
print(f"{'path':<28} {'median':>9} {'p90':>9} {'min':>9} {'vs bridge':>10} {'ADD med':>9} {'DEL med':>9}")
b = statistics.median(a + r for a, r in load("bridge"))
for name, f in rows:
    runs = load(f)
    v = sorted(a + r for a, r in runs)
    p90 = v[int(0.9 * (len(v) - 1))]
    m = statistics.median(v)
    add = statistics.median(a for a, _ in runs)
    dele = statistics.median(r for _, r in runs)
    print(f"{name:<28} {m / 1000:>9.2f} {p90 / 1000:>9.2f} {v[0] / 1000:>9.2f} {m / b:>10.2f}"
          f" {add / 1000:>9.2f} {dele / 1000:>9.2f}")
PY
