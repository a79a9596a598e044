# SPDX-License-Identifier: Apache-2.0
# Shared by the backend netns tests (test-vxlan.sh, test-hostgw.sh,
# test-drift.sh), sourced after setting SHORT. Three "nodes" on an underlay
# bridge that lives in a namespace of its own; nothing in the root namespace.
#
#                 [ ul: bridge br0 ]
#                /        |         \
#         vn1 (veth)  vn2 (veth)  vn3 (veth)
#              |          |          |
#           [ n1 ]     [ n2 ]     [ n3 ]        eth0 in each node:
#                                               203.0.113.N/24, 2001:db8:1::N/64
#   node N: lease 198.18.N.0/24 and 2001:db8:42:N::/64 (from 198.18.0.0/16 and
#   2001:db8:42::/56); its "pod" address 198.18.N.1 and 2001:db8:42:N::1 on
#   lo (this kernel has no dummy driver); VtepMACs 0e:00:00:00:04:0N (v4), 0e:00:00:00:06:0N (v6).
#
# Names carry the test's short name and $$, so concurrent runs never collide.

set -euo pipefail

: "${BUILD_DIR:?BUILD_DIR must be set}"
DRIVER=${BACKEND_DRIVER:-$BUILD_DIR/test/backend-driver}

P=bk-$SHORT-$$
NS_UL=$P-ul
NODES=(1 2 3)
TMP=$(mktemp -d "/tmp/$P.XXXXXX")
BG_PIDS=()

ns_of() { echo "$P-n$1"; }
in_n() {
	local n=$1
	shift
	ip netns exec "$(ns_of "$n")" "$@"
}

cleanup() {
	local pid n
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	for n in "${NODES[@]}"; do
		ip netns del "$(ns_of "$n")" 2>/dev/null || true
	done
	ip netns del "$NS_UL" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() { echo "ok: $*"; }

setup_topology() {
	local n ns
	[ "$(id -u)" = 0 ] || fail "needs root (CAP_NET_ADMIN) to create namespaces"
	[ -x "$DRIVER" ] || fail "$DRIVER not built"
	ip netns add "$NS_UL"
	# A fixed MAC: a bridge otherwise takes its lowest port MAC, which changes as
	# nodes join and leaves stale ARP entries behind.
	ip -n "$NS_UL" link add br0 address 02:00:00:00:00:fe type bridge
	ip -n "$NS_UL" link set br0 up
	ip -n "$NS_UL" link set lo up
	for n in "${NODES[@]}"; do
		ns=$(ns_of "$n")
		ip netns add "$ns"
		# No DAD: addresses settle at once (the restart test watches ip monitor).
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.all.accept_dad=0
		ip -n "$NS_UL" link add "vn$n" type veth peer name eth0 netns "$ns"
		ip -n "$NS_UL" link set "vn$n" master br0 up
		ip -n "$ns" link set lo up
		ip -n "$ns" link set eth0 up
		ip -n "$ns" addr add "203.0.113.$n/24" dev eth0
		ip -n "$ns" addr add "2001:db8:1::$n/64" dev eth0 nodad
		ip -n "$ns" route add default via 203.0.113.254 dev eth0 onlink
		ip -n "$ns" -6 route add default via 2001:db8:1::fe dev eth0 onlink
		ip -n "$ns" addr add "198.18.$n.1/32" dev lo
		ip -n "$ns" addr add "2001:db8:42:$n::1/128" dev lo
	done
}

# peers_file FILE [node...]: the leases of these nodes (default: all).
peers_file() {
	local f=$1 n
	shift
	: >"$f"
	for n in "${@:-${NODES[@]}}"; do
		echo "node$n subnet=198.18.$n.0/24 ip=203.0.113.$n mac=0e:00:00:00:04:0$n" \
			"subnet6=2001:db8:42:$n::/64 ip6=2001:db8:1::$n mac6=0e:00:00:00:06:0$n" >>"$f"
	done
}

# driver NODE BACKEND_JSON [extra args...]: backend-driver inside the node.
driver() {
	local n=$1 json=$2
	shift 2
	in_n "$n" "$DRIVER" --backend "$json" --iface eth0 --name "node$n" \
		--subnet "198.18.$n.0/24" --subnet6 "2001:db8:42:$n::/64" --ipv6 \
		--mac "0e:00:00:00:04:0$n" --mac6 "0e:00:00:00:06:0$n" "$@"
}

# field LINE KEY: the value of KEY=value in a driver output line.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

# ping_all: every node reaches every other node's pod addresses, v4 and v6.
ping_all() {
	local a b
	for a in "${NODES[@]}"; do
		for b in "${NODES[@]}"; do
			[ "$a" = "$b" ] && continue
			in_n "$a" ping -c1 -W2 -I "198.18.$a.1" "198.18.$b.1" >/dev/null ||
				fail "ping 198.18.$a.1 -> 198.18.$b.1"
			in_n "$a" ping -6 -c1 -W2 -I "2001:db8:42:$a::1" "2001:db8:42:$b::1" >/dev/null ||
				fail "ping 2001:db8:42:$a::1 -> 2001:db8:42:$b::1"
		done
	done
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}
