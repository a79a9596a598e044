#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Drift repair by the vxlan reconciler running as a loop (backend-driver
# --resync-ms), dual-stack:
#
#                 [ ul: bridge br0 ]
#                /        |         \
#           [ n1 ]     [ n2 ]     [ n3 ]      eth0 203.0.113.N/24, 2001:db8:1::N/64
#        driver loop  driver once driver once flannel.1 / flannel-v6.1 in each
#   lo: 198.18.N.1, 2001:db8:42:N::1 ("pods" in lease 198.18.N.0/24, 2001:db8:42:N::/64)
#
# Behind the loop's back on n1: delete a route, an FDB entry, a neighbour,
# the whole device; expect each repaired within the resync interval (the
# netlink notification usually triggers it at once), drift counted, and
# pings working again. Foreign routes (other protocol, elsewhere) survive.
# SIGHUP with a node removed from the peers file removes exactly its entries.
SHORT=drift
source "$(dirname "$0")/backend-lib.sh"

VX='{"Type":"vxlan"}'
RESYNC_MS=1000
setup_topology
peers_file "$TMP/peers"
for n in 2 3; do
	driver "$n" "$VX" --peers "$TMP/peers" --once >/dev/null 2>&1 || fail "driver on n$n"
done
# Not through the driver() function: $! must be the driver itself (ip netns exec execs it).
ip netns exec "$(ns_of 1)" "$DRIVER" --backend "$VX" --iface eth0 --name node1 \
	--subnet 198.18.1.0/24 --subnet6 2001:db8:42:1::/64 --ipv6 \
	--mac 0e:00:00:00:04:01 --mac6 0e:00:00:00:06:01 \
	--peers "$TMP/peers" --resync-ms "$RESYNC_MS" >"$TMP/loop" 2>"$TMP/loop.err" &
DRIVER_PID=$!
BG_PIDS+=("$DRIVER_PID")

has_route() { grep -q "^198.18.$1.0/24 via 198.18.$1.0 dev flannel.1 proto 63 onlink" <<<"$(in_n 1 ip route show)"; }
has_route6() { grep -q "^2001:db8:42:$1::/64 via 2001:db8:42:$1:: dev flannel-v6.1" <<<"$(in_n 1 ip -6 route show)"; }
has_fdb() { grep -q "^0e:00:00:00:04:0$1 dst 203.0.113.$1 self permanent" <<<"$(in_n 1 bridge fdb show dev flannel.1)"; }
has_neigh() { grep -q "^198.18.$1.0 lladdr 0e:00:00:00:04:0$1 PERMANENT" <<<"$(in_n 1 ip neigh show dev flannel.1)"; }
complete() { has_route 2 && has_route 3 && has_fdb 2 && has_fdb 3 && has_neigh 2 && has_neigh 3 && has_route6 2 && has_route6 3; }
last_field() { field "$(grep '^reconcile' "$TMP/loop" | tail -1)" "$1"; }
# Repair must happen within the resync interval (plus slack for a loaded machine).
REPAIR_S=$((RESYNC_MS / 1000 + 3))

wait_for 10 complete || fail "initial programming: $(cat "$TMP/loop" "$TMP/loop.err")"
ping_all
ok "loop programmed every peer"

# Foreign routes: another protocol on eth0, and one to a peer subnet at another metric.
in_n 1 ip route add 198.18.77.0/24 via 203.0.113.3 dev eth0 proto static
in_n 1 ip route add 198.18.3.0/24 via 203.0.113.3 dev eth0 metric 50
in_n 1 ip -6 route add 2001:db8:77::/64 via 2001:db8:1::3 dev eth0 proto static

in_n 1 ip route del 198.18.2.0/24
wait_for "$REPAIR_S" has_route 2 || fail "route not repaired"
ok "deleted route repaired"

in_n 1 bridge fdb del 0e:00:00:00:04:03 dev flannel.1 dst 203.0.113.3 self
wait_for "$REPAIR_S" has_fdb 3 || fail "fdb entry not repaired"
ok "deleted FDB entry repaired"

in_n 1 ip neigh del 198.18.2.0 dev flannel.1
wait_for "$REPAIR_S" has_neigh 2 || fail "neighbour not repaired"
ok "deleted neighbour repaired"

in_n 1 ip -6 route del 2001:db8:42:3::/64
wait_for "$REPAIR_S" has_route6 3 || fail "v6 route not repaired"
ok "deleted IPv6 route repaired"

created_before=$(last_field devices_created)
in_n 1 ip link del flannel.1
wait_for "$REPAIR_S" complete || fail "device not recreated with every peer: $(in_n 1 ip route)"
sleep 0.3
[ "$(last_field devices_created)" -gt "$created_before" ] || fail "device re-creation not counted"
grep -q "link/ether 0e:00:00:00:04:01" <<<"$(in_n 1 ip link show flannel.1)" || fail "VtepMAC not kept"
[ "$(in_n 1 ip -4 -o addr show dev flannel.1 | awk '{print $4}')" = "198.18.1.0/32" ] ||
	fail "device address not restored"
ping_all
ok "deleted device recreated and every peer replayed"

# A full periodic resync later, the foreign routes are still there.
sleep $((RESYNC_MS / 1000 + 1))
routes=$(in_n 1 ip route show)
grep -q "^198.18.77.0/24 via 203.0.113.3 dev eth0 proto static" <<<"$routes" || fail "foreign route removed: $routes"
grep -q "^198.18.3.0/24 via 203.0.113.3 dev eth0 metric 50" <<<"$routes" || fail "foreign metric-50 route removed"
grep -q "^2001:db8:77::/64 via 2001:db8:1::3 dev eth0 proto static" <<<"$(in_n 1 ip -6 route show)" ||
	fail "foreign IPv6 route removed"
[ "$(last_field drift_found)" -ge 5 ] && [ "$(last_field drift_repaired)" = "$(last_field drift_found)" ] ||
	fail "drift counters: $(grep '^reconcile' "$TMP/loop" | tail -1)"
[ "$(last_field rc)" = 0 ] || fail "last pass failed: $(tail -3 "$TMP/loop.err")"
ok "foreign routes untouched, drift counted"

# Steady state: a periodic pass over unchanged peers writes nothing.
before=$(grep -c '^reconcile' "$TMP/loop")
more_passes() { [ "$(grep -c '^reconcile' "$TMP/loop")" -gt "$before" ]; }
wait_for $((RESYNC_MS / 1000 + 3)) more_passes || fail "no periodic pass"
[ "$(last_field writes)" = 0 ] || fail "steady-state pass wrote: $(grep '^reconcile' "$TMP/loop" | tail -1)"
ok "steady state: zero writes"

# node3 leaves (SIGHUP re-reads the peers file): exactly its entries go.
peers_file "$TMP/peers" 1 2
kill -HUP "$DRIVER_PID"
gone3() { ! has_route 3 && ! has_fdb 3 && ! has_neigh 3 && ! has_route6 3; }
wait_for 5 gone3 || fail "node3's entries not removed: $(tail -n 3 "$TMP/loop.err")"
has_route 2 && has_fdb 2 && has_neigh 2 && has_route6 2 || fail "node2's entries lost"
grep -q "^198.18.3.0/24 via 203.0.113.3 dev eth0 metric 50" <<<"$(in_n 1 ip route show)" ||
	fail "foreign route to node3's subnet removed with node3"
in_n 1 ping -c1 -W2 -I 198.18.1.1 198.18.2.1 >/dev/null || fail "node2 unreachable"
ok "SIGHUP: removed node's entries removed, others kept"

kill -TERM "$DRIVER_PID"
wait "$DRIVER_PID" || fail "driver exit status on SIGTERM"
has_route 2 && has_fdb 2 || fail "SIGTERM removed the datapath"
ok "SIGTERM leaves the datapath"
echo PASS
