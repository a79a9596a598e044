#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The vxlan backend on a real kernel, dual-stack, through backend-driver:
#
#                 [ ul: bridge br0 ]
#                /        |         \
#           [ n1 ]     [ n2 ]     [ n3 ]      eth0 203.0.113.N/24, 2001:db8:1::N/64
#          flannel.1  flannel.1  flannel.1    VXLAN over eth0 (IPv4 underlay)
#       flannel-v6.1 flannel-v6.1 flannel-v6.1  VXLAN over eth0 (IPv6 underlay)
#   lo: 198.18.N.1, 2001:db8:42:N::1 ("pods" in lease 198.18.N.0/24, 2001:db8:42:N::/64)
#
# Checks: device attributes and the exact per-peer entries (upstream §4.1,
# §4.2), pings between every pair of nodes over both devices, a restart with
# unchanged peers writes nothing (ip monitor in the node records nothing), a
# removed node loses exactly its entries, an existing device with another
# port is replaced, and DirectRouting switches same-segment peers to plain
# routes over eth0 (and removes their VXLAN entries).
SHORT=vxlan
source "$(dirname "$0")/backend-lib.sh"

VX='{"Type":"vxlan"}'
setup_topology
peers_file "$TMP/peers"

# n3 already has a flannel.1 with another UDP port: it must be replaced.
in_n 3 ip link add flannel.1 type vxlan id 1 dstport 4789 local 203.0.113.3 dev eth0 nolearning

for n in "${NODES[@]}"; do
	driver "$n" "$VX" --peers "$TMP/peers" --once >"$TMP/out$n" 2>"$TMP/err$n" ||
		fail "driver on n$n: $(cat "$TMP/err$n")"
done
grep -q '^registered type=vxlan iface=eth0 vni=1 mac=0e:00:00:00:04:01 mac6=0e:00:00:00:06:01 mtu=1430$' \
	"$TMP/out1" || fail "registration: $(cat "$TMP/out1")"
grep -q 'already exists with incompatible configuration: port 4789 != 8472; recreating device' \
	"$TMP/err3" || fail "n3 did not replace its flannel.1: $(cat "$TMP/err3")"
grep -q 'dstport 8472' <<<"$(in_n 3 ip -d link show flannel.1)" || fail "n3 flannel.1 still on the old port"
ok "incompatible device replaced"

# Device shape (upstream §4.1).
link=$(in_n 1 ip -d link show flannel.1)
for want in "mtu 1450" "link/ether 0e:00:00:00:04:01" "vxlan id 1 local 203.0.113.1 dev eth0" \
	"dstport 8472" "nolearning" "UP"; do
	grep -qF "$want" <<<"$link" || fail "flannel.1 lacks '$want': $link"
done
link6=$(in_n 1 ip -d link show flannel-v6.1)
for want in "mtu 1430" "link/ether 0e:00:00:00:06:01" "vxlan id 1 local 2001:db8:1::1 dev eth0"; do
	grep -qF "$want" <<<"$link6" || fail "flannel-v6.1 lacks '$want': $link6"
done
[ "$(in_n 1 ip -4 -o addr show dev flannel.1 | awk '{print $4}')" = "198.18.1.0/32" ] ||
	fail "flannel.1 address"
grep -q '2001:db8:42:1::/128' <<<"$(in_n 1 ip -6 -o addr show dev flannel-v6.1 scope global)" ||
	fail "flannel-v6.1 address"
[ "$(in_n 1 cat /proc/sys/net/ipv6/conf/flannel.1/accept_ra)" = 0 ] || fail "accept_ra"
ok "devices"

# Per-peer entries (upstream §4.2), exactly one of each per peer and family.
check_entries() {
	local n=$1 p neigh fdb route neigh6 fdb6 route6
	shift
	# Captured first: `cmd | grep -q` fails under pipefail when grep exits early.
	neigh=$(in_n "$n" ip neigh show dev flannel.1)
	fdb=$(in_n "$n" bridge fdb show dev flannel.1)
	route=$(in_n "$n" ip route show)
	neigh6=$(in_n "$n" ip -6 neigh show dev flannel-v6.1)
	fdb6=$(in_n "$n" bridge fdb show dev flannel-v6.1)
	route6=$(in_n "$n" ip -6 route show)
	for p in "$@"; do
		grep -q "^198.18.$p.0 lladdr 0e:00:00:00:04:0$p PERMANENT" <<<"$neigh" ||
			fail "n$n: neighbour for node$p: $neigh"
		grep -q "^0e:00:00:00:04:0$p dst 203.0.113.$p self permanent" <<<"$fdb" ||
			fail "n$n: fdb for node$p: $fdb"
		grep -q "^198.18.$p.0/24 via 198.18.$p.0 dev flannel.1 proto 63 onlink" <<<"$route" ||
			fail "n$n: route for node$p: $route"
		grep -q "^2001:db8:42:$p:: lladdr 0e:00:00:00:06:0$p PERMANENT" <<<"$neigh6" ||
			fail "n$n: v6 neighbour for node$p: $neigh6"
		grep -q "^0e:00:00:00:06:0$p dst 2001:db8:1::$p self permanent" <<<"$fdb6" ||
			fail "n$n: v6 fdb for node$p: $fdb6"
		grep -q "^2001:db8:42:$p::/64 via 2001:db8:42:$p:: dev flannel-v6.1 proto 63 metric 1024 onlink" <<<"$route6" ||
			fail "n$n: v6 route for node$p: $route6"
	done
}
check_entries 1 2 3
check_entries 2 1 3
[ "$(in_n 1 ip neigh show dev flannel.1 | wc -l)" = 2 ] || fail "n1: extra neighbours"
[ "$(in_n 1 bridge fdb show dev flannel.1 | grep -c self)" = 2 ] || fail "n1: extra fdb entries"
ok "per-peer entries"

ping_all
ok "pings over flannel.1 and flannel-v6.1"

# Restart with unchanged peers: no kernel write, nothing for ip monitor to see.
# Neighbours are watched on our devices only: the kernel's own ARP/ND on eth0
# changes state at any time. ip monitor prints "Peer netns reference is
# invalid" for a namespace another test is adding or deleting at that moment:
# that is ip resolving names, not a kernel change.
in_n 1 ip monitor link address route >"$TMP/monitor" 2>&1 &
BG_PIDS+=($!)
in_n 1 ip monitor neigh >"$TMP/neighmonitor" 2>&1 &
BG_PIDS+=($!)
in_n 1 bridge monitor fdb >"$TMP/fdbmonitor" 2>&1 &
BG_PIDS+=($!)
sleep 0.5
out=$(driver 1 "$VX" --peers "$TMP/peers" --once 2>"$TMP/err1b") || fail "restart: $(cat "$TMP/err1b")"
sleep 0.5
[ "$(field "$out" writes)" = 0 ] || fail "restart wrote to the kernel: $out"
changes=$(
	grep -v '^Error: Peer netns reference is invalid\.$' "$TMP/monitor" || true
	grep ' dev flannel' "$TMP/neighmonitor" || true
)
[ -z "$changes" ] || fail "ip monitor saw changes on restart: $changes"
[ ! -s "$TMP/fdbmonitor" ] || fail "bridge monitor saw changes on restart: $(cat "$TMP/fdbmonitor")"
ok "restart with unchanged peers: zero writes"

# node3 leaves: n1 loses exactly node3's entries.
peers_file "$TMP/peers12" 1 2
out=$(driver 1 "$VX" --peers "$TMP/peers12" --once 2>/dev/null) || fail "driver after removal"
[ "$(field "$out" route_del)" = 2 ] && [ "$(field "$out" neigh_del)" = 2 ] &&
	[ "$(field "$out" fdb_del)" = 2 ] || fail "removal ops: $out"
grep -q '198.18.3.0' <<<"$(in_n 1 ip route)" && fail "node3 route left behind"
grep -q '198.18.3.0' <<<"$(in_n 1 ip neigh show dev flannel.1)" && fail "node3 neighbour left behind"
grep -q '04:03' <<<"$(in_n 1 bridge fdb show dev flannel.1)" && fail "node3 fdb left behind"
check_entries 1 2
in_n 1 ping -c1 -W2 -I 198.18.1.1 198.18.2.1 >/dev/null || fail "node2 unreachable after node3 left"
ok "removed node's entries removed, others kept"

# DirectRouting: every peer is on eth0's subnet, so plain routes replace VXLAN.
DR='{"Type":"vxlan","DirectRouting":true}'
for n in "${NODES[@]}"; do
	driver "$n" "$DR" --peers "$TMP/peers" --once >"$TMP/dr$n" 2>&1 || fail "DirectRouting on n$n"
done
grep -q '^198.18.2.0/24 via 203.0.113.2 dev eth0 proto 63' <<<"$(in_n 1 ip route show 198.18.2.0/24)" ||
	fail "DirectRouting v4 route: $(in_n 1 ip route)"
grep -q 'via 2001:db8:1::2 dev eth0 proto 63' <<<"$(in_n 1 ip -6 route show 2001:db8:42:2::/64)" ||
	fail "DirectRouting v6 route: $(in_n 1 ip -6 route)"
[ -z "$(in_n 1 ip neigh show dev flannel.1 nud permanent)" ] || fail "VXLAN neighbours left with DirectRouting"
! grep -q self <<<"$(in_n 1 bridge fdb show dev flannel.1)" || fail "VXLAN fdb left with DirectRouting"
ping_all
ok "DirectRouting"

# Back to plain vxlan: the direct routes (ours by protocol) are replaced again.
driver 1 "$VX" --peers "$TMP/peers" --once >"$TMP/back" 2>&1 || fail "back to vxlan: $(cat "$TMP/back")"
check_entries 1 2 3
ok "DirectRouting off again"
echo PASS
