#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The three-node cluster of cluster-lib.sh with each backend configuration a
# user picks in net-conf.json, one cluster after the other; pods wired by the
# real CNI plugin reach each other across nodes in every one:
#   1. host-gw: routes via the peers' addresses on eth0, no VXLAN device,
#      MTU of the interface, backend-data null;
#   2. vxlan + DirectRouting, with node 3 moved to another underlay subnet
#      (198.51.100.0/24, routed by the underlay namespace): nodes 1 and 2
#      route each other directly, and reach node 3 (and it them) over VXLAN;
#   3. dual stack: IPv4 and IPv6 pods ping across nodes over flannel.1 and
#      flannel-v6.1, with both families' annotations published;
#   4. vxlan with VNI 4096 and Port 4790: device flannel.4096, and the
#      encapsulated traffic really uses UDP port 4790 (not 8472);
#   5. alloc: leases and subnet.env only, no device, no route, no datapath.
set -euo pipefail
P=sys-be-$$
. "$(dirname "$0")/cluster-lib.sh"
trap cluster_cleanup EXIT

A=flannel.alpha.coreos.com

# start_cluster: nodes 1-3 from the current BACKEND/DUAL_STACK, ready, one pod each.
start_cluster() {
	cluster_underlay
	cluster_netconf
	for n in 1 2 3; do cluster_node "$n"; done
	"$@"
	for n in 1 2 3; do start_flanneld "$n"; done
	for n in 1 2 3; do wait_for 30 "node $n ready" node_ready "$n"; done
	for n in 1 2 3; do add_pod "$n" 1; done
}

# ping_pods6 N...: like ping_pods, over IPv6.
ping_pods6() {
	local n m
	for n in "$@"; do for m in "$@"; do
		[ "$n" = "$m" ] && continue
		pod_ping "$n" 1 "$(pod_ip "$m" 1 6)" || fail "pod on node $n cannot reach pod on node $m over IPv6"
	done; done
}

annotation() { kctl get-node "name=node-$1" | python3 -c '
import json, sys
print(json.load(sys.stdin)["node"]["metadata"]["annotations"].get(sys.argv[1], "<none>"))' "$A/$2"; }

route_is() { # N DST EXPECTED-REGEX [-6]
	local out
	out=$(in_node "$1" ip ${4:-} route show "$2")
	grep -Eq "^$2 $3" <<<"$out" || fail "node $1: route to $2 is \"$out\", expected \"$3\""
}

# ---- 1. host-gw ----------------------------------------------------------------
BACKEND=host-gw start_cluster
for n in 1 2 3; do for m in 1 2 3; do
	[ "$n" = "$m" ] || route_is "$n" "198.18.$m.0/24" "via 203.0.113.$m dev eth0 "
done; done
in_node 1 ip link show flannel.1 >/dev/null 2>&1 && fail "host-gw created a VXLAN device"
grep -qx FLANNEL_MTU=1500 "$WORK/n1/run/subnet.env" || fail "host-gw MTU is not eth0's 1500"
[ "$(annotation 2 backend-type)" = host-gw ] && [ "$(annotation 2 backend-data)" = null ] ||
	fail "host-gw annotations: $(annotation 2 backend-type) $(annotation 2 backend-data)"
ping_pods 1 2 3
ok "host-gw: direct routes, no device, MTU 1500, pods reach each other"
cluster_reset

# ---- 2. vxlan + DirectRouting --------------------------------------------------
move_node3() {
	ip netns exec "$NS_UL" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 \
		net.ipv4.conf.br0.send_redirects=0
	ip -n "$NS_UL" addr add 198.51.100.254/24 dev br0
	ip -n "$(ns_of 3)" addr del 203.0.113.3/24 dev eth0
	ip -n "$(ns_of 3)" addr add 198.51.100.3/24 dev eth0
	ip -n "$(ns_of 3)" route add default via 198.51.100.254 dev eth0
	kctl modify-node name=node-3 internalIP=198.51.100.3 >/dev/null
}
BACKEND='{"Type": "vxlan", "DirectRouting": true}' start_cluster move_node3
for n in 1 2; do
	m=$((3 - n))
	route_is "$n" "198.18.$m.0/24" "via 203.0.113.$m dev eth0 "
	route_is "$n" 198.18.3.0/24 "via 198.18.3.0 dev flannel.1 .*onlink"
	output_has " dst 198.51.100.3 self permanent" in_node "$n" bridge fdb show dev flannel.1 ||
		fail "node $n has no FDB entry for node 3"
	output_has " dst 203.0.113.$m " in_node "$n" bridge fdb show dev flannel.1 &&
		fail "node $n has a VXLAN FDB entry for directly routed node $m"
	output_has . in_node "$n" ip neigh show "198.18.$m.0" dev flannel.1 &&
		fail "node $n has a VXLAN neighbour for directly routed node $m"
done
for m in 1 2; do route_is 3 "198.18.$m.0/24" "via 198.18.$m.0 dev flannel.1 .*onlink"; done
[ "$(annotation 3 public-ip)" = 198.51.100.3 ] || fail "node 3 public-ip $(annotation 3 public-ip)"
ping_pods 1 2 3
ok "vxlan DirectRouting: same-subnet peers routed directly, node 3 over VXLAN, pods reach each other"
cluster_reset

# ---- 3. dual stack ---------------------------------------------------------------
DUAL_STACK=1 start_cluster
for n in 1 2 3; do
	output_has "vxlan id 1 local 2001:db8:1::$n " in_node "$n" ip -d link show flannel-v6.1 ||
		fail "flannel-v6.1 on node $n"
	for m in 1 2 3; do
		[ "$n" = "$m" ] && continue
		route_is "$n" "198.18.$m.0/24" "via 198.18.$m.0 dev flannel.1 .*onlink"
		route_is "$n" "2001:db8:42:$m::/64" "via 2001:db8:42:$m:: dev flannel-v6.1 .*onlink" -6
	done
done
[ "$(annotation 2 public-ipv6)" = 2001:db8:1::2 ] || fail "public-ipv6 of node 2: $(annotation 2 public-ipv6)"
python3 -c 'import json, sys; d = json.loads(sys.argv[1]); assert set(d) == {"VNI", "VtepMAC"} and d["VNI"] == 1, d' \
	"$(annotation 2 backend-v6-data)" || fail "backend-v6-data of node 2"
grep -qx FLANNEL_IPV6_SUBNET=2001:db8:42:1::1/64 "$WORK/n1/run/subnet.env" || fail "subnet.env IPv6 subnet"
ping_pods 1 2 3
ping_pods6 1 2 3
ok "dual stack: IPv4 and IPv6 pods reach each other over flannel.1 and flannel-v6.1"
cluster_reset

# ---- 4. VNI 4096, Port 4790 ---------------------------------------------------------
# A counter per VXLAN port in node 2's input path.
count_vxlan() {
	in_node 2 nft -f - <<-EOF
		table inet $P-count {
			chain input {
				type filter hook input priority 0; policy accept;
				udp dport 4790 counter
				udp dport 8472 counter
			}
		}
	EOF
}
BACKEND='{"Type": "vxlan", "VNI": 4096, "Port": 4790}' start_cluster count_vxlan
for n in 1 2 3; do
	output_has "vxlan id 4096 local 203.0.113.$n .*dstport 4790 " in_node "$n" ip -d link show flannel.4096 ||
		fail "flannel.4096 on node $n: $(in_node "$n" ip -d link show flannel.4096)"
	in_node "$n" ip link show flannel.1 >/dev/null 2>&1 && fail "node $n has a flannel.1 device"
done
route_is 1 198.18.2.0/24 "via 198.18.2.0 dev flannel.4096 .*onlink"
[ "$(annotation 2 backend-data)" = "{\"VNI\":4096,\"VtepMAC\":\"$(in_node 2 cat /sys/class/net/flannel.4096/address)\"}" ] ||
	fail "backend-data of node 2: $(annotation 2 backend-data)"
ping_pods 1 2 3
in_node 2 nft list table inet "$P-count" >"$WORK/counters"
grep -Eq "udp dport 4790 counter packets [1-9]" "$WORK/counters" || fail "no VXLAN packets on port 4790: $(cat "$WORK/counters")"
grep -q "udp dport 8472 counter packets 0 " "$WORK/counters" || fail "VXLAN packets on port 8472: $(cat "$WORK/counters")"
ok "vxlan VNI 4096 port 4790: device flannel.4096, traffic on UDP 4790, pods reach each other"
cluster_reset

# ---- 5. alloc: subnet allocation only ---------------------------------------------------
BACKEND=alloc start_cluster
for n in 1 2 3; do
	grep -qx "FLANNEL_SUBNET=198.18.$n.1/24" "$WORK/n$n/run/subnet.env" || fail "alloc: subnet.env of node $n"
	grep -qx FLANNEL_MTU=1500 "$WORK/n$n/run/subnet.env" || fail "alloc: MTU of node $n"
	output_has "proto 63" in_node "$n" ip route show && fail "alloc: node $n has flannel routes"
	output_has "flannel" in_node "$n" ip link show && fail "alloc: node $n has a flannel device"
done
[ "$(annotation 2 backend-type)" = "" ] || fail "alloc: backend-type \"$(annotation 2 backend-type)\""
pod_ping 1 1 "$(pod_ip 2 1)" && fail "alloc: pods reach each other without a datapath"
ok "alloc: leases and subnet.env only, no device, no route"
