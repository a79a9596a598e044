#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# flanneld without Kubernetes: three real flanneld in three namespaces get
# their subnets from a real etcd and carry traffic between each other, once
# over vxlan and once over host-gw (each network under its own
# --etcd-prefix, as upstream's functional suite). Like upstream's test,
# every node puts the address of its FLANNEL_SUBNET on a local interface
# (dummy0, a veth here) and pings the others' from it.
#
#                    [ $P-ul ]  bridge br0 203.0.113.254/24, etcd :2379
#               /         |           |           \
#         [ $P-X-n1 ]  [ $P-X-n2 ]  [ $P-X-n3 ]  [ $P-X-n4 ]     eth0 203.0.113.N/24
#          flanneld     flanneld     flanneld     (joins late)   dummy0 (veth) = FLANNEL_SUBNET
#
# X is v (vxlan, /vxlan/network, 198.18.0.0/16) or h (host-gw, /hostgw/network,
# 198.19.0.0/16). Also: a restarted flanneld keeps its subnet and the
# datapath; etcd killed for a while changes no route and no ping fails; after
# etcd is back a new node is seen by the others. Nothing is added to the
# root namespace; everything is removed on exit.
set -euo pipefail
: "${BUILD_DIR:?BUILD_DIR must be set}"

P=etcdp$$
FLANNELD=$BUILD_DIR/cmd/flanneld
NS_UL=$P-ul
ETCD_IP=203.0.113.254
EP=http://$ETCD_IP:2379
W=$(mktemp -d "/tmp/$P.XXXXXX")
PIDS=()
declare -A FPID
ETCD_PID=

cleanup() {
	local rc=$? ns
	for p in "${PIDS[@]}" $ETCD_PID; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}" $ETCD_PID; do wait "$p" 2>/dev/null || true; done
	if [ "$rc" != 0 ]; then
		for f in "$W"/*/flanneld.log; do
			[ -f "$f" ] || continue
			echo "==== $f (last 25 lines)"
			tail -n 25 "$f"
		done
	fi
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$W"
	exit "$rc"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() { echo "ok: $*"; }

wait_for() {
	local secs=$1 what=$2 deadline
	shift 2
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt "$deadline" ] || fail "timed out after ${secs}s waiting for $what"
		sleep 0.1
	done
}

[ "$(id -u)" = 0 ] || fail "needs root"
[ -x "$FLANNELD" ] || fail "$FLANNELD not built"

ectl() { ip netns exec "$NS_UL" env ETCDCTL_API=3 etcdctl --endpoints "$EP" "$@"; }

start_etcd() {
	ip netns exec "$NS_UL" etcd --name t --data-dir "$W/etcd" \
		--listen-client-urls "$EP" --advertise-client-urls "$EP" \
		--listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster t=http://127.0.0.1:2380 >>"$W/etcd.log" 2>&1 &
	ETCD_PID=$!
	wait_for 20 "etcd" ectl endpoint health
}

ip netns add "$NS_UL"
ip -n "$NS_UL" link set lo up
# A fixed MAC: a bridge without one takes the lowest MAC of its ports, which
# changes as nodes join and leaves the nodes' ARP entries for etcd stale.
ip -n "$NS_UL" link add br0 address 02:00:00:00:00:fe type bridge
ip -n "$NS_UL" link set br0 up
ip -n "$NS_UL" addr add "$ETCD_IP/24" dev br0
start_etcd

# node X N: a namespace on the underlay.
node() {
	local x=$1 n=$2 ns=$P-$1-n$2
	ip netns add "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$NS_UL" link add "$x$n" type veth peer name eth0 netns "$ns"
	ip -n "$NS_UL" link set "$x$n" master br0 up
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	ip -n "$ns" addr add "203.0.113.$n/24" dev eth0
	ip -n "$ns" route add default via "$ETCD_IP" dev eth0
	mkdir -p "$W/$x$n"
	wait_for 10 "node $n's underlay" ip netns exec "$ns" ping -c 1 -W 1 "$ETCD_IP"
}

# flanneld X N PREFIX: flanneld in etcd mode, log in $W/XN/flanneld.log.
flanneld() {
	local x=$1 n=$2 prefix=$3
	ip netns exec "$P-$x-n$n" "$FLANNELD" --etcd-endpoints "http://127.0.0.1:4001,$EP" \
		--etcd-prefix "$prefix" --subnet-file "$W/$x$n/subnet.env" \
		>>"$W/$x$n/flanneld.log" 2>&1 &
	FPID[$x$n]=$!
	PIDS+=($!)
}

subnet_of() { sed -n 's/^FLANNEL_SUBNET=//p' "$W/$1/subnet.env"; }
dummy_ip() { local s; s=$(subnet_of "$1"); echo "${s%/*}"; }
in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}
routes() { ip -n "$1" -4 route show | grep -v 'dev eth0 proto kernel' | sort; }

# ping_all X N...: every listed node pings every other one from its dummy0.
ping_all() {
	local x=$1 a b
	shift
	for a in "$@"; do
		for b in "$@"; do
			[ "$a" = "$b" ] && continue
			in_ns "$P-$x-n$a" ping -c 1 -W 2 -I "$(dummy_ip "$x$a")" "$(dummy_ip "$x$b")" \
				>/dev/null || fail "$x: node $a cannot reach node $b"
		done
	done
}

# wait_mesh X N...: until every node pings every other (routes may take a moment).
wait_mesh() {
	local x=$1 deadline=$((SECONDS + 30))
	shift
	until (ping_all "$x" "$@") >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || ping_all "$x" "$@"
		sleep 0.2
	done
}

# The FLANNEL_SUBNET address on a local interface (upstream uses a dummy;
# the dummy module is not always there, a veth pair does the same).
add_dummy() {
	local x=$1 n=$2
	ip -n "$P-$x-n$n" link add dummy0 type veth peer name dummy0p
	ip -n "$P-$x-n$n" addr add "$(subnet_of "$x$n")" dev dummy0
	ip -n "$P-$x-n$n" link set dummy0p up
	ip -n "$P-$x-n$n" link set dummy0 up
}

# run_network X PREFIX NETWORK BACKEND
run_network() {
	local x=$1 prefix=$2 network=$3 backend=$4 n s before after
	ectl put "$prefix/config" "{\"Network\": \"$network\", \"Backend\": {\"Type\": \"$backend\"}}" >/dev/null
	for n in 1 2 3; do
		node "$x" "$n"
		flanneld "$x" "$n" "$prefix"
	done
	for n in 1 2 3; do
		wait_for 30 "$backend node $n's subnet.env" test -s "$W/$x$n/subnet.env"
		add_dummy "$x" "$n"
	done
	s=$(for n in 1 2 3; do subnet_of "$x$n"; done | sort -u | wc -l)
	[ "$s" = 3 ] || fail "$backend: subnets not distinct: $(cat "$W/$x"*/subnet.env)"
	[ "$(ectl get --prefix --keys-only "$prefix/subnets/" | grep -c .)" = 3 ] ||
		fail "$backend: not three leases under $prefix"
	wait_mesh "$x" 1 2 3
	ok "$backend: three nodes with distinct subnets reach each other"

	# a restart keeps the subnet, and traffic flows right after
	s=$(subnet_of "${x}2")
	kill -TERM "${FPID[${x}2]}"
	wait "${FPID[${x}2]}" 2>/dev/null || true
	flanneld "$x" 2 "$prefix"
	wait_for 20 "node 2's lease after the restart" grep -q 'Found lease' "$W/${x}2/flanneld.log"
	[ "$(subnet_of "${x}2")" = "$s" ] || fail "$backend: node 2 changed its subnet over a restart"
	ping_all "$x" 1 2 3
	ok "$backend: a restarted node keeps its subnet"

	# etcd away: no route changes, no ping fails, nobody exits
	before=$(for n in 1 2 3; do routes "$P-$x-n$n"; done)
	kill -KILL "$ETCD_PID"
	wait "$ETCD_PID" 2>/dev/null || true
	ETCD_PID=
	for _ in 1 2 3; do
		sleep 2
		ping_all "$x" 1 2 3
	done
	after=$(for n in 1 2 3; do routes "$P-$x-n$n"; done)
	[ "$before" = "$after" ] || fail "$backend: routes changed while etcd was down"
	for n in 1 2 3; do kill -0 "${FPID[$x$n]}" || fail "$backend: flanneld $n exited"; done
	start_etcd
	ok "$backend: etcd down for 6 s left the datapath untouched"

	# the watches are back: a late node is reachable from everyone
	node "$x" 4
	flanneld "$x" 4 "$prefix"
	wait_for 30 "node 4's subnet.env" test -s "$W/${x}4/subnet.env"
	add_dummy "$x" 4
	wait_mesh "$x" 1 2 3 4
	ok "$backend: after etcd came back a new node is reachable from all"
}

run_network v /vxlan/network 198.18.0.0/16 vxlan
run_network h /hostgw/network 198.19.0.0/16 host-gw
# the two networks stayed apart in etcd
ectl get --prefix --keys-only /vxlan/network/subnets/ | grep -q '198\.19\.' && fail "mixed prefixes"
ectl get --prefix --keys-only /hostgw/network/subnets/ | grep -q '198\.18\.' && fail "mixed prefixes"
echo "PASS"
