# SPDX-License-Identifier: Apache-2.0
# Shared by test-rules-iptables.sh and test-rules-nftables.sh (sourced).
#
# Topology, every piece in a namespace of its own (nothing in the root
# namespace); names carry the test's short name and $$:
#
#   pod ----------- node ------------ [ ul: bridge br0 ] ------------ outside
#   198.18.1.10/24  198.18.1.1/24                                     203.0.113.2/24
#   2001:db8:1:1::10 2001:db8:1:1::1                                  2001:db8:ff::2/64
#                   203.0.113.1/24      |
#                   2001:db8:ff::1/64   +------------------------------ peer (another node)
#                                                                     203.0.113.3/24, 2001:db8:ff::3
#                                                                     pod subnet 198.18.2.0/24 and
#                                                                     2001:db8:1:2::/64 on lo
#
# Cluster network 198.18.0.0/16 and 2001:db8:1::/48; this node's lease
# 198.18.1.0/24 and 2001:db8:1:1::/64. The node routes the peer's pod subnet
# via the peer (as host-gw would), so "pod -> outside" must be masqueraded to
# the node's address and "pod -> peer's pod" must keep the pod's address.

set -euo pipefail

: "${BUILD_DIR:?BUILD_DIR must be set}"
DRIVER=${RULES_DRIVER:-$BUILD_DIR/test/rules-driver}
PY=/usr/bin/python3

P=rl-$SHORT-$$
NS_POD=$P-pod
NS_NODE=$P-node
NS_UL=$P-ul
NS_OUT=$P-out
NS_PEER=$P-peer
TMP=$(mktemp -d /tmp/$P.XXXXXX)
BG_PIDS=()

cleanup() {
	local pid ns
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	for ns in "$NS_POD" "$NS_NODE" "$NS_UL" "$NS_OUT" "$NS_PEER"; do
		# `in_node prog &` gives the pid of a subshell: end what runs inside too
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

in_node() { ip netns exec "$NS_NODE" "$@"; }

setup_topology() {
	local ns
	[ "$(id -u)" = 0 ] || fail "needs root (CAP_NET_ADMIN) to create namespaces"
	[ -x "$DRIVER" ] || fail "$DRIVER not built"
	for ns in "$NS_POD" "$NS_NODE" "$NS_UL" "$NS_OUT" "$NS_PEER"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	# A fixed MAC: a bridge otherwise takes its lowest port MAC, which changes as
	# nodes join and leaves stale ARP entries behind.
	ip -n "$NS_UL" link add br0 address 02:00:00:00:00:fe type bridge
	ip -n "$NS_UL" link set br0 up
	for ns in "$NS_NODE" "$NS_OUT" "$NS_PEER"; do
		ip -n "$NS_UL" link add "p-${ns##*-}" type veth peer name eth0 netns "$ns"
		ip -n "$NS_UL" link set "p-${ns##*-}" master br0 up
		ip -n "$ns" link set eth0 up
	done
	ip -n "$NS_NODE" link add cni0 type veth peer name eth0 netns "$NS_POD"
	ip -n "$NS_NODE" link set cni0 up
	ip -n "$NS_POD" link set eth0 up

	ip -n "$NS_POD" addr add 198.18.1.10/24 dev eth0
	ip -n "$NS_POD" addr add 2001:db8:1:1::10/64 dev eth0 nodad
	ip -n "$NS_POD" route add default via 198.18.1.1
	ip -n "$NS_POD" -6 route add default via 2001:db8:1:1::1

	ip -n "$NS_NODE" addr add 198.18.1.1/24 dev cni0
	ip -n "$NS_NODE" addr add 2001:db8:1:1::1/64 dev cni0 nodad
	ip -n "$NS_NODE" addr add 203.0.113.1/24 dev eth0
	ip -n "$NS_NODE" addr add 2001:db8:ff::1/64 dev eth0 nodad
	ip -n "$NS_NODE" route add 198.18.2.0/24 via 203.0.113.3
	ip -n "$NS_NODE" -6 route add 2001:db8:1:2::/64 via 2001:db8:ff::3
	in_node sysctl -qw net.ipv4.ip_forward=1
	in_node sysctl -qw net.ipv6.conf.all.forwarding=1

	ip -n "$NS_OUT" addr add 203.0.113.2/24 dev eth0
	ip -n "$NS_OUT" addr add 2001:db8:ff::2/64 dev eth0 nodad
	# the outside knows no route to the pods: only a masqueraded packet can be answered
	ip -n "$NS_PEER" addr add 203.0.113.3/24 dev eth0
	ip -n "$NS_PEER" addr add 2001:db8:ff::3/64 dev eth0 nodad
	ip -n "$NS_PEER" addr add 198.18.2.1/32 dev lo
	ip -n "$NS_PEER" addr add 2001:db8:1:2::1/128 dev lo
	ip -n "$NS_PEER" route add 198.18.1.0/24 via 203.0.113.1
	ip -n "$NS_PEER" -6 route add 2001:db8:1:1::/64 via 2001:db8:ff::1
}

# source_seen <listener-ns> <listen-addr> <dest-addr>: the source address of
# a UDP datagram from the pod, as the listener sees it.
source_seen() {
	local ns=$1 laddr=$2 dst=$3 out=$TMP/seen.$RANDOM pid i
	ip netns exec "$ns" $PY -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5555))
open(sys.argv[2] + ".ready", "w").close()
s.settimeout(10)
d, a = s.recvfrom(100)
open(sys.argv[2], "w").write(a[0])
' "$laddr" "$out" &
	pid=$!
	for i in $(seq 100); do [ -e "$out.ready" ] && break; sleep 0.05; done
	for i in $(seq 20); do
		ip netns exec "$NS_POD" $PY -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
socket.socket(fam, socket.SOCK_DGRAM).sendto(b"hello", (sys.argv[1], 5555))
' "$dst"
		[ -s "$out" ] && break
		sleep 0.2
	done
	wait "$pid" || true
	cat "$out" 2>/dev/null || echo none
}

check_datapath() {
	local got
	got=$(source_seen "$NS_OUT" 203.0.113.2 203.0.113.2)
	[ "$got" = 203.0.113.1 ] || fail "pod -> outside: outside saw source $got, want 203.0.113.1 (masqueraded)"
	got=$(source_seen "$NS_PEER" 198.18.2.1 198.18.2.1)
	[ "$got" = 198.18.1.10 ] || fail "pod -> peer pod: peer saw source $got, want 198.18.1.10 (not masqueraded)"
	got=$(source_seen "$NS_OUT" 2001:db8:ff::2 2001:db8:ff::2)
	[ "$got" = 2001:db8:ff::1 ] || fail "IPv6 pod -> outside: outside saw $got, want 2001:db8:ff::1"
	got=$(source_seen "$NS_PEER" 2001:db8:1:2::1 2001:db8:1:2::1)
	[ "$got" = 2001:db8:1:1::10 ] || fail "IPv6 pod -> peer pod: peer saw $got, want 2001:db8:1:1::10"
	echo "ok: datapath: pod->outside masqueraded, pod->other node's pod keeps its address (IPv4, IPv6)"
}

# The flags of a dual-stack node with --ip-masq.
NETS=(--network=198.18.0.0/16 --subnet=198.18.1.0/24
	--ipv6-network=2001:db8:1::/48 --ipv6-subnet=2001:db8:1:1::/64)

# wait_for <seconds> <command...>: poll until the command succeeds.
wait_for() {
	local t=$1 i
	shift
	for i in $(seq $((t * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
