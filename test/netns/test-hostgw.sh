#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The host-gw backend on a real kernel, dual-stack, through backend-driver:
#
#                 [ ul: bridge br0 ]
#                /        |         \
#           [ n1 ]     [ n2 ]     [ n3 ]      eth0 203.0.113.N/24, 2001:db8:1::N/64
#   lo: 198.18.N.1, 2001:db8:42:N::1 ("pods" in lease 198.18.N.0/24, 2001:db8:42:N::/64)
#   routes: 198.18.M.0/24 via 203.0.113.M dev eth0, 2001:db8:42:M::/64 via 2001:db8:1::M
#
# Checks: the exact routes (upstream §4.7), pings between every pair, a
# restart writes nothing, a foreign route to a peer's subnet at another
# metric is left alone, a removed node loses exactly its routes, and a
# public IP that differs from the interface's is refused (NAT).
SHORT=hostgw
source "$(dirname "$0")/backend-lib.sh"

HG='{"Type":"host-gw"}'
setup_topology
peers_file "$TMP/peers"

# A foreign route to node2's subnet at metric 100: not ours (no protocol 63),
# so host-gw must leave it alone while adding its own at metric 0.
in_n 1 ip route add 198.18.2.0/24 via 203.0.113.3 dev eth0 metric 100

for n in "${NODES[@]}"; do
	driver "$n" "$HG" --peers "$TMP/peers" --once >"$TMP/out$n" 2>"$TMP/err$n" ||
		fail "driver on n$n: $(cat "$TMP/err$n")"
done
grep -q '^registered type=host-gw iface=eth0 vni=0 mac=- mac6=- mtu=1500$' "$TMP/out1" ||
	fail "registration: $(cat "$TMP/out1")"

routes=$(in_n 1 ip route show)
routes6=$(in_n 1 ip -6 route show)
for p in 2 3; do
	grep -q "^198.18.$p.0/24 via 203.0.113.$p dev eth0 proto 63 $" <<<"$routes" ||
		fail "n1: route for node$p: $routes"
	grep -q "^2001:db8:42:$p::/64 via 2001:db8:1::$p dev eth0 proto 63 metric 1024" <<<"$routes6" ||
		fail "n1: v6 route for node$p: $routes6"
done
grep -q "^198.18.2.0/24 via 203.0.113.3 dev eth0 metric 100" <<<"$routes" ||
	fail "foreign metric-100 route was touched: $routes"
[ "$(grep -c 'proto 63' <<<"$routes")" = 2 ] || fail "n1: unexpected routes: $routes"
ok "routes"

ping_all
ok "pings over host-gw"

out=$(driver 1 "$HG" --peers "$TMP/peers" --once 2>/dev/null) || fail "restart"
[ "$(field "$out" writes)" = 0 ] || fail "restart wrote to the kernel: $out"
ok "restart with unchanged peers: zero writes"

peers_file "$TMP/peers12" 1 2
out=$(driver 1 "$HG" --peers "$TMP/peers12" --once 2>/dev/null) || fail "driver after removal"
[ "$(field "$out" route_del)" = 2 ] && [ "$(field "$out" writes)" = 2 ] || fail "removal ops: $out"
routes=$(in_n 1 ip route show)
grep -q '198.18.3.0' <<<"$routes" && fail "node3 route left behind: $routes"
grep -q "^198.18.2.0/24 via 203.0.113.2 dev eth0 proto 63" <<<"$routes" || fail "node2 route lost"
grep -q "^198.18.2.0/24 via 203.0.113.3 dev eth0 metric 100" <<<"$routes" || fail "foreign route lost"
ok "removed node's routes removed, others kept"

if driver 2 "$HG" --peers "$TMP/peers" --once --public-ip 203.0.113.99 >"$TMP/nat" 2>&1; then
	fail "host-gw accepted a public IP that is not the interface's"
fi
grep -q "your PublicIP differs from interface IP" "$TMP/nat" || fail "NAT message: $(cat "$TMP/nat")"
ok "NAT refused"
echo PASS
