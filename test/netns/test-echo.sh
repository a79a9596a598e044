#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Echo suppression and incremental passes of the vxlan reconciler, with the
# periodic resync pushed out of reach (--resync-ms 600000), so that every
# repair below can only come from a netlink notification:
#
#                 [ ul: bridge br0 ]
#                /        |         \
#           [ n1 ]     [ n2 ]     [ n3 ]      eth0 203.0.113.N/24, 2001:db8:1::N/64
#        driver loop  driver once driver once flannel.1 / flannel-v6.1 in each
#
# n1 starts with node2 only (a full pass), then node3 joins by SIGHUP (an
# incremental pass: no dumps, six writes). The notifications of our own
# writes trigger no pass at all. Then, behind the loop's back: a route and
# an FDB entry deleted, a neighbour given another MAC, a stale proto-63
# route added: each is repaired within seconds by a full pass.
SHORT=echo
source "$(dirname "$0")/backend-lib.sh"

VX='{"Type":"vxlan"}'
setup_topology
peers_file "$TMP/peers"
for n in 2 3; do
	driver "$n" "$VX" --peers "$TMP/peers" --once >/dev/null 2>&1 || fail "driver on n$n"
done
peers_file "$TMP/peers1" 1 2
ip netns exec "$(ns_of 1)" "$DRIVER" --backend "$VX" --iface eth0 --name node1 \
	--subnet 198.18.1.0/24 --subnet6 2001:db8:42:1::/64 --ipv6 \
	--mac 0e:00:00:00:04:01 --mac6 0e:00:00:00:06:01 \
	--peers "$TMP/peers1" --resync-ms 600000 >"$TMP/loop" 2>"$TMP/loop.err" &
DRIVER_PID=$!
BG_PIDS+=("$DRIVER_PID")

has_route() { grep -q "^198.18.$1.0/24 via 198.18.$1.0 dev flannel.1 proto 63 onlink" <<<"$(in_n 1 ip route show)"; }
has_route6() { grep -q "^2001:db8:42:$1::/64 via 2001:db8:42:$1:: dev flannel-v6.1" <<<"$(in_n 1 ip -6 route show)"; }
has_fdb() { grep -q "^0e:00:00:00:04:0$1 dst 203.0.113.$1 self permanent" <<<"$(in_n 1 bridge fdb show dev flannel.1)"; }
has_neigh() { grep -q "^198.18.$1.0 lladdr 0e:00:00:00:04:0$1 PERMANENT" <<<"$(in_n 1 ip neigh show dev flannel.1)"; }
complete() { has_route "$1" && has_fdb "$1" && has_neigh "$1" && has_route6 "$1"; }
passes() { grep -c '^reconcile' "$TMP/loop" || true; }
last() { field "$(grep '^reconcile' "$TMP/loop" | tail -1)" "$1"; }
more_passes_than() { [ "$(passes)" -gt "$1" ]; }

wait_for 10 complete 2 || fail "initial programming: $(cat "$TMP/loop" "$TMP/loop.err")"
[ "$(field "$(grep '^reconcile' "$TMP/loop" | head -1)" full_passes)" = 1 ] ||
	fail "first pass not a full one: $(head -1 "$TMP/loop")"
# The new devices' own link notifications (operstate, reported up to a second
# late by the kernel's linkwatch) may cost one more full pass: let them settle.
settled() {
	local n
	n=$(passes)
	sleep 1.5
	[ "$(passes)" = "$n" ]
}
wait_for 10 settled || fail "passes keep coming at start: $(cat "$TMP/loop")"
full=$(last full_passes)
incr=$(last incremental_passes)
dumps=$(last dump)
echoes=$(last events_echo)
foreign=$(last events_foreign)

# node3 joins: an incremental pass, no dumps, its six entries written.
n=$(passes)
cp "$TMP/peers" "$TMP/peers1"
kill -HUP "$DRIVER_PID"
wait_for 5 more_passes_than "$n" || fail "no pass after SIGHUP"
[ "$(last incremental_passes)" = $((incr + 1)) ] && [ "$(last full_passes)" = "$full" ] ||
	fail "node3 not added incrementally: $(tail -1 "$TMP/loop")"
[ "$(last dump)" = "$dumps" ] || fail "the incremental pass dumped: $(tail -1 "$TMP/loop")"
[ "$(last writes)" = 6 ] || fail "node3 took $(last writes) writes, want 6"
complete 3 || fail "node3 not programmed"
ping_all
ok "node3 added by an incremental pass: 6 writes, no dumps"

# The echoes of those writes cause no pass.
sleep 2
[ "$(passes)" = $((n + 1)) ] || fail "notifications of our own writes caused passes: $(cat "$TMP/loop")"
kill -HUP "$DRIVER_PID" # unchanged peers: shows the counters
wait_for 5 more_passes_than $((n + 1)) || fail "no pass after the second SIGHUP"
[ "$(last events_echo)" -ge $((echoes + 6)) ] && [ "$(last events_foreign)" = "$foreign" ] ||
	fail "echoes not recognised: $(tail -1 "$TMP/loop")"
[ "$(last writes)" = 0 ] && [ "$(last full_passes)" = "$full" ] ||
	fail "unchanged pass: $(tail -1 "$TMP/loop")"
ok "echo-suppressed steady state: $(last events_echo) echoes, no pass caused"

# Foreign changes are still repaired at once (the resync is 10 minutes away).
in_n 1 ip route del 198.18.2.0/24
wait_for 3 has_route 2 || fail "deleted route not repaired: $(tail -2 "$TMP/loop")"
[ "$(last full_passes)" -gt "$full" ] && [ "$(last drift_repaired)" -ge 1 ] ||
	fail "repair not a full pass with drift: $(tail -1 "$TMP/loop")"
ok "deleted route repaired by a full pass"

in_n 1 bridge fdb del 0e:00:00:00:04:03 dev flannel.1 dst 203.0.113.3 self
wait_for 3 has_fdb 3 || fail "deleted FDB entry not repaired"
ok "deleted FDB entry repaired"

in_n 1 ip neigh replace 198.18.2.0 lladdr 0e:00:00:00:04:09 dev flannel.1 nud permanent
wait_for 3 has_neigh 2 || fail "changed neighbour not repaired: $(in_n 1 ip neigh show dev flannel.1)"
ok "neighbour with another MAC repaired"

in_n 1 ip route add 198.18.99.0/24 via 203.0.113.3 dev eth0 proto 63
gone99() { ! grep -q "^198.18.99.0/24" <<<"$(in_n 1 ip route show)"; }
wait_for 3 gone99 || fail "stale proto-63 route not removed"
ok "unknown route of ours removed"

# Back to a trusted steady state: the repairs' own echoes cause nothing more.
sleep 1
n=$(passes)
sleep 2
[ "$(passes)" = "$n" ] || fail "passes keep coming: $(tail -3 "$TMP/loop")"
complete 2 && complete 3 || fail "entries lost"
ping_all
[ "$(last rc)" = 0 ] || fail "last pass failed: $(tail -3 "$TMP/loop.err")"
ok "quiet again after the repairs"
echo PASS
