#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# In-place replacement of upstream flannel by ours on a live node, and back,
# under traffic, on a three-node vxlan cluster (cluster-lib.sh).
#
# No upstream binary exists here, so node 1's state is laid exactly as
# upstream's agent leaves it (docs/flannel-behaviour.md §2.3, §4.1-4.2, §5):
#   flannel.1   vxlan id 1 local 203.0.113.1 dev eth0 dstport 8472 nolearning,
#               MTU 1450, address 198.18.1.0/32, MAC = the node's VtepMAC
#   per peer    neighbour <S.0> lladdr <VtepMAC> permanent, FDB <VtepMAC> dst
#               <public ip> self permanent, route <S> via <S.0> dev flannel.1
#               onlink of the default protocol (boot)
#   rules       FLANNEL-POSTRTG (nat) and FLANNEL-FWD (filter), upstream's text
#   subnet.env  upstream's four lines
#   Node        upstream's annotations (backend-data {"VNI":1,"VtepMAC":...})
# Nodes 2 and 3 run our flanneld and route to node 1 from those annotations.
#
#   1. upstream → ours: with pods pinging each other across nodes every 10 ms
#      and `ip monitor`/`bridge monitor` recording node 1's kernel, our
#      flanneld starts on node 1 and becomes ready. Asserted: 0 packets lost,
#      no link, address, route, neighbour or FDB entry deleted (upstream's
#      routes are adopted: replaced in place by ours with protocol 63, same
#      destination and next hop), flannel.1 kept (same ifindex and MAC), the
#      rules exactly upstream's (one set, no duplicate), subnet.env and the
#      annotations unchanged.
#   2. ours → upstream: our flanneld is stopped (SIGTERM) and what upstream's
#      agent does at start is replayed with ip/bridge/iptables-restore:
#      the device compatibility check's attributes, neighbour/FDB/route
#      replace per peer (§4.2), and the rules' create-or-flush + -D/-A
#      bootstrap (§5.2). Asserted: the state we leave has every shape upstream
#      depends on, under traffic 0 packets are lost, nothing is deleted, and
#      upstream's replace leaves one route per peer and one set of rules.
set -euo pipefail
P=sys-rp-$$
. "$(dirname "$0")/cluster-lib.sh"
trap cluster_cleanup EXIT

A=flannel.alpha.coreos.com
MAC1=0e:2f:6a:11:0c:01
PING_COUNT=800 # at 10 ms: 8 s of traffic around each switch

annotation() { kctl get-node "name=node-$1" | python3 -c '
import json, sys
print(json.load(sys.stdin)["node"]["metadata"]["annotations"].get(sys.argv[1], "<none>"))' "$A/$2"; }
annotations() { kctl get-node "name=node-$1" | python3 -c '
import json, sys
a = json.load(sys.stdin)["node"]["metadata"]["annotations"]
print(json.dumps({k: v for k, v in a.items() if k.startswith("flannel.")}, sort_keys=True))'; }
vtep_mac() { annotation "$1" backend-data | python3 -c 'import json, sys; print(json.load(sys.stdin)["VtepMAC"])'; }

BACKEND=vxlan
cluster_underlay
cluster_netconf
for n in 1 2 3; do cluster_node "$n"; done

# ---- node 1 as upstream's agent left it ---------------------------------------------
# kubectl-lite parses values as JSON: backend-data goes as a JSON string.
kctl modify-node name=node-1 "annotations.$A/kube-subnet-manager=\"true\"" \
	"annotations.$A/backend-type=vxlan" \
	"annotations.$A/backend-data=\"{\\\"VNI\\\":1,\\\"VtepMAC\\\":\\\"$MAC1\\\"}\"" \
	"annotations.$A/public-ip=203.0.113.1" >/dev/null
for n in 2 3; do start_flanneld "$n"; done
for n in 2 3; do wait_for 30 "node $n ready" node_ready "$n"; done

in_node 1 ip link add flannel.1 address "$MAC1" mtu 1450 type vxlan id 1 local 203.0.113.1 \
	dev eth0 dstport 8472 nolearning
in_node 1 ip addr add 198.18.1.0/32 dev flannel.1
in_node 1 ip link set flannel.1 up
for n in 2 3; do
	mac=$(vtep_mac "$n")
	in_node 1 ip neigh add "198.18.$n.0" lladdr "$mac" dev flannel.1 nud permanent
	in_node 1 bridge fdb add "$mac" dev flannel.1 dst "203.0.113.$n" self permanent
	in_node 1 ip route add "198.18.$n.0/24" via "198.18.$n.0" dev flannel.1 onlink
done
upstream_rules() {
	cat <<-'EOF'
		*nat
		:FLANNEL-POSTRTG - [0:0]
		-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
		-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
		-A FLANNEL-POSTRTG -s 198.18.1.0/24 -d 198.18.0.0/16 -m comment --comment "flanneld masq" -j RETURN
		-A FLANNEL-POSTRTG -s 198.18.0.0/16 -d 198.18.1.0/24 -m comment --comment "flanneld masq" -j RETURN
		-A FLANNEL-POSTRTG ! -s 198.18.0.0/16 -d 198.18.1.0/24 -m comment --comment "flanneld masq" -j RETURN
		-A FLANNEL-POSTRTG -s 198.18.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
		-A FLANNEL-POSTRTG ! -s 198.18.0.0/16 -d 198.18.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
		COMMIT
		*filter
		:FLANNEL-FWD - [0:0]
		-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
		-A FLANNEL-FWD -s 198.18.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
		-A FLANNEL-FWD -d 198.18.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
		COMMIT
	EOF
}
upstream_rules | in_node 1 iptables-restore --noflush
printf 'FLANNEL_NETWORK=198.18.0.0/16\nFLANNEL_SUBNET=198.18.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n' \
	>"$WORK/n1/run/subnet.env"

for n in 1 2 3; do add_pod "$n" 1; done
ping_pods 1 2 3
ok "node 1 laid out as upstream leaves it; pods on nodes 1-3 reach each other"

# ---- helpers ---------------------------------------------------------------------------
# log_ms N TEXT: milliseconds from node N's first log line to the first line with TEXT.
log_ms() {
	awk -v text="$2" '{ split($2, t, ":"); ms = ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 }
		NR == 1 { t0 = ms } index($0, text) { printf "%d\n", ms - t0; exit }' "$WORK/n$1/flanneld.log"
}
# The rules as the kernel lists them (no counters): one set, compared whole.
rules_now() { for t in nat filter; do in_node 1 iptables -t "$t" -S | sed "s/^/$t /"; done; }
# Kernel entries upstream's agent depends on, without volatile fields.
link_shape() { in_node 1 ip -d -o link show flannel.1 | grep -Eo 'mtu [0-9]+|link/ether [0-9a-f:]+|vxlan id [0-9]+|local [0-9.]+|dev eth0|dstport [0-9]+|nolearning|l2miss|l3miss|gbp|state [A-Z]+'; }
ifindex() { in_node 1 cat /sys/class/net/flannel.1/ifindex; }
peer_entries() {
	in_node 1 ip -4 neigh show dev flannel.1 nud permanent | sort
	in_node 1 bridge fdb show dev flannel.1 | grep ' dst ' | sort
	in_node 1 ip -4 addr show dev flannel.1 | grep -o 'inet [0-9./]*'
}

# traffic_start: pods ping each other across nodes, 100 packets/s each way.
PING_PIDS=()
traffic_start() {
	local i=0 src dst
	PING_PIDS=()
	for pair in "1 2" "1 3" "2 1" "3 1"; do
		read -r src dst <<<"$pair"
		ip netns exec "$(pod_ns "$src" 1)" ping -n -q -i 0.01 -W 1 -c "$PING_COUNT" \
			"$(pod_ip "$dst" 1)" >"$WORK/ping-$1-$i.txt" 2>&1 &
		PING_PIDS+=($!)
		CLUSTER_PIDS+=($!)
		i=$((i + 1))
	done
}
# traffic_check PHASE: every ping ran to its end, and none lost a packet.
traffic_check() {
	local f sent got total_sent=0 total_lost=0
	for pid in "${PING_PIDS[@]}"; do wait "$pid" || true; done
	for f in "$WORK"/ping-"$1"-*.txt; do
		sent=$(sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\1/p' "$f")
		got=$(sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\2/p' "$f")
		[ "$sent" = "$PING_COUNT" ] || fail "$1: ping did not run to its end: $(cat "$f")"
		total_sent=$((total_sent + sent))
		total_lost=$((total_lost + sent - got))
	done
	echo "$1: $total_lost of $total_sent packets lost"
	[ "$total_lost" = 0 ] || fail "$1: $total_lost packets lost: $(cat "$WORK"/ping-"$1"-*.txt)"
}

MON_PIDS=()
monitor_start() {
	ip netns exec "$(ns_of 1)" ip -ts monitor link address route >"$WORK/mon-$1.txt" 2>&1 &
	MON_PIDS=($!)
	ip netns exec "$(ns_of 1)" ip -ts monitor neigh >"$WORK/neighmon-$1.txt" 2>&1 &
	MON_PIDS+=($!)
	ip netns exec "$(ns_of 1)" bridge monitor fdb >"$WORK/fdbmon-$1.txt" 2>&1 &
	MON_PIDS+=($!)
	CLUSTER_PIDS+=("${MON_PIDS[@]}")
	sleep 0.2 # the monitors are subscribed
}
# monitor_check PHASE: no link, address, route, FDB entry or flannel.1
# neighbour was deleted. The kernel's neighbour cache collects dynamic
# entries (eth0's STALE ones, IPv6 multicast/link-local NOARP ones) at any
# time: those are no state anyone laid. A deleted permanent neighbour shows
# as "Deleted <ip> dev flannel.1 FAILED", hence the match on the device.
monitor_check() {
	local deleted
	sleep 0.2
	kill "${MON_PIDS[@]}"
	wait "${MON_PIDS[@]}" 2>/dev/null || true
	deleted=$(
		cat "$WORK/mon-$1.txt" "$WORK/fdbmon-$1.txt" | grep 'Deleted' || true
		grep 'Deleted' "$WORK/neighmon-$1.txt" | grep -E 'PERMANENT|dev flannel\.1' |
			grep -Ev 'Deleted (ff02|fe80):[0-9a-f:]* dev flannel\.1 .*NOARP *$' || true
	)
	[ -z "$deleted" ] || fail "$1: kernel entries deleted: $deleted"
	echo "$1: $(cat "$WORK"/*mon-"$1".txt | wc -l) kernel notifications, no link, address, route, flannel.1 neighbour or FDB entry deleted"
}

# ---- 1. upstream → ours ------------------------------------------------------------------
rules_before=$(rules_now)
link_before=$(link_shape)
ifindex_before=$(ifindex)
entries_before=$(peer_entries)
env_before=$(cat "$WORK/n1/run/subnet.env")
ann_before=$(annotations 1)
grep -q "link/ether $MAC1" <<<"$link_before" || fail "flannel.1 laid without its MAC: $link_before"

monitor_start up
traffic_start up
sleep 1
start_flanneld 1
wait_for 20 "node 1 ready" node_ready 1
# Start to ready as flanneld logs it (glog time stamps), not the poll's granularity.
echo "node 1: ours ready $(log_ms 1 'flannel is ready') ms after its start on upstream's state"
running=0
for pid in "${PING_PIDS[@]}"; do [ -e "/proc/$pid" ] && running=$((running + 1)); done
[ "$running" = 4 ] || fail "the traffic ended before our flanneld was ready: lengthen PING_COUNT"
traffic_check up
monitor_check up

[ "$(ifindex)" = "$ifindex_before" ] || fail "flannel.1 was recreated (ifindex $ifindex_before → $(ifindex))"
[ "$(link_shape)" = "$link_before" ] || fail "flannel.1 changed: $link_before → $(link_shape)"
[ "$(peer_entries)" = "$entries_before" ] || fail "neighbours/FDB changed: $entries_before → $(peer_entries)"
for n in 2 3; do
	routes=$(in_node 1 ip route show "198.18.$n.0/24")
	[ "$(wc -l <<<"$routes")" = 1 ] &&
		grep -Eq "^198\.18\.$n\.0/24 via 198\.18\.$n\.0 dev flannel\.1 proto 63 onlink *$" <<<"$routes" ||
		fail "node 1: route to node $n not adopted as one route of protocol 63: $routes"
done
[ "$(rules_now)" = "$rules_before" ] ||
	fail "rules differ from upstream's: $(diff <(echo "$rules_before") <(rules_now) || true)"
dups=$(rules_now | sort | uniq -d)
[ -z "$dups" ] || fail "duplicate rules: $dups"
[ "$(cat "$WORK/n1/run/subnet.env")" = "$env_before" ] ||
	fail "subnet.env changed: $(cat "$WORK/n1/run/subnet.env")"
[ "$(annotations 1)" = "$ann_before" ] || fail "annotations changed: $ann_before → $(annotations 1)"
writes=$(metric 1 'flannel_netlink_operations_total{op="route_replace"}')
echo "node 1: our flanneld wrote $writes route replaces (upstream's routes adopted), $(metric 1 'flannel_netlink_operations_total{op="neigh_replace"}') neighbour and $(metric 1 'flannel_netlink_operations_total{op="fdb_replace"}') FDB replaces"
[ "$writes" = 2 ] || fail "expected 2 route replaces (adoption), got $writes"
ping_pods 1 2 3
ok "upstream → ours: 0 lost, nothing deleted, flannel.1 kept with MAC $MAC1, routes adopted, one set of rules, subnet.env and annotations unchanged"

# ---- 2. ours → upstream --------------------------------------------------------------------
stop_flanneld 1
# What upstream's agent checks or reuses at start.
link=$(link_shape)
for shape in "vxlan id 1" "local 203.0.113.1" "dev eth0" "dstport 8472" nolearning \
	"link/ether $MAC1" "mtu 1450"; do
	grep -qx "$shape" <<<"$link" || fail "after ours: flannel.1 lacks \"$shape\": $link"
done
grep -Eqx 'l2miss|l3miss|gbp' <<<"$link" && fail "after ours: flannel.1 has flags upstream would not: $link"
[ "$(vtep_mac 1)" = "$MAC1" ] || fail "after ours: VtepMAC annotation is $(vtep_mac 1), device $MAC1"
[ "$(peer_entries)" = "$entries_before" ] || fail "after ours: neighbours/FDB/address differ from upstream's"
[ "$(rules_now)" = "$rules_before" ] || fail "after ours: rules differ from upstream's text"
[ "$(cat "$WORK/n1/run/subnet.env")" = "$env_before" ] || fail "after ours: subnet.env differs"
ok "after ours: flannel.1, neighbours, FDB, rules, subnet.env and annotations are in upstream's shapes"

monitor_start down
traffic_start down
sleep 1
# Upstream's start: per peer neighbour, FDB, route replace (the default
# protocol); the rules' chains created-or-flushed, then one
# iptables-restore --noflush per table deleting each existing rule and
# appending it again.
for n in 2 3; do
	mac=$(vtep_mac "$n")
	in_node 1 ip neigh replace "198.18.$n.0" lladdr "$mac" dev flannel.1 nud permanent
	in_node 1 bridge fdb replace "$mac" dev flannel.1 dst "203.0.113.$n" self permanent
	in_node 1 ip route replace "198.18.$n.0/24" via "198.18.$n.0" dev flannel.1 onlink
done
in_node 1 iptables -t nat -F FLANNEL-POSTRTG
in_node 1 iptables -t filter -F FLANNEL-FWD
upstream_rules | awk '/^-A/ { d = $0; sub(/^-A/, "-D", d); print d } { print }' |
	awk '!/^-D FLANNEL-/' | in_node 1 iptables-restore --noflush
traffic_check down
monitor_check down
for n in 2 3; do
	routes=$(in_node 1 ip route show "198.18.$n.0/24")
	[ "$(wc -l <<<"$routes")" = 1 ] && grep -q "via 198.18.$n.0 dev flannel.1 onlink" <<<"$routes" &&
		! grep -q "proto 63" <<<"$routes" ||
		fail "node 1: upstream's replace left \"$routes\""
done
[ "$(rules_now)" = "$rules_before" ] ||
	fail "rules after upstream's bootstrap: $(diff <(echo "$rules_before") <(rules_now) || true)"
[ "$(peer_entries)" = "$entries_before" ] || fail "neighbours/FDB after upstream's replace differ"
ping_pods 1 2 3
ok "ours → upstream: 0 lost, nothing deleted, one route per peer (upstream's replaced ours), one set of rules"
