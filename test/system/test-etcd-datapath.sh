#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# flanneld without Kubernetes: real flanneld get their subnets from a real
# etcd and carry traffic between each other. Every node runs two flannel
# networks side by side, as upstream's functional multi-network test: a
# vxlan one and a host-gw one, each under its own --etcd-prefix and
# --subnet-file. Like upstream's test, every node puts the address of each
# FLANNEL_SUBNET on a local interface (dummy-v / dummy-h, veths here) and
# pings the others' from it.
#
#                    [ $P-ul ]  bridge br0 203.0.113.254/24, etcd :2379
#               /         |           |           \
#          [ $P-n1 ]   [ $P-n2 ]   [ $P-n3 ]   [ $P-n4 ]     eth0 203.0.113.N/24
#          flanneld v  flanneld v  flanneld v  (joins late)  dummy-v = vxlan FLANNEL_SUBNET
#          flanneld h  flanneld h  flanneld h                dummy-h = host-gw FLANNEL_SUBNET
#
# v: vxlan, /vxlan/network, 198.18.0.0/16; h: host-gw, /hostgw/network,
# 198.19.0.0/16, both with --ip-masq. Neither network's flanneld touches the
# other's routes or traffic rules (the shared FLANNEL-POSTRTG / FLANNEL-FWD
# chains) over several resync periods, and a rule of either network deleted
# by hand is restored by that network's flanneld alone. Also: a restarted flanneld keeps its subnet and
# the datapath; etcd killed for a while changes no route and no ping fails;
# after etcd is back a new node is seen by the others. Nothing is added to
# the root namespace; everything is removed on exit.
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

# node N: a namespace on the underlay.
node() {
	local n=$1 ns=$P-n$1
	ip netns add "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$NS_UL" link add "n$n" type veth peer name eth0 netns "$ns"
	ip -n "$NS_UL" link set "n$n" master br0 up
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	ip -n "$ns" addr add "203.0.113.$n/24" dev eth0
	ip -n "$ns" route add default via "$ETCD_IP" dev eth0
	wait_for 10 "node $n's underlay" ip netns exec "$ns" ping -c 1 -W 1 "$ETCD_IP"
}

prefix_of() { case $1 in v) echo /vxlan/network ;; h) echo /hostgw/network ;; esac; }
port_of() { case $1 in v) echo 8081 ;; h) echo 8082 ;; esac; }
name_of() { case $1 in v) echo vxlan ;; h) echo host-gw ;; esac; }
network_of() { case $1 in v) echo 198.18.0.0/16 ;; h) echo 198.19.0.0/16 ;; esac; }

# flanneld X N: network X's flanneld in etcd mode on node N, log in $W/XN/flanneld.log.
flanneld() {
	local x=$1 n=$2
	mkdir -p "$W/$x$n"
	ip netns exec "$P-n$n" "$FLANNELD" --etcd-endpoints "http://127.0.0.1:4001,$EP" \
		--etcd-prefix "$(prefix_of "$x")" --subnet-file "$W/$x$n/subnet.env" \
		--ip-masq --iptables-resync 2 --healthz-ip 127.0.0.1 --healthz-port "$(port_of "$x")" \
		>>"$W/$x$n/flanneld.log" 2>&1 &
	FPID[$x$n]=$!
	PIDS+=($!)
}

subnet_of() { sed -n 's/^FLANNEL_SUBNET=//p' "$W/$1/subnet.env"; }

# metric X N NAME: the counter NAME of network X's flanneld on node N.
metric() {
	ip netns exec "$P-n$2" curl -sf "http://127.0.0.1:$(port_of "$1")/metrics" |
		awk -v m="$3" '$1 == m { v = $2 } END { print v == "" ? "none" : v }'
}
repairs() { metric "$1" "$2" flannel_traffic_rules_repairs_total; }
checks() { metric "$1" "$2" flannel_traffic_rules_checks_total; }
metric_gt() { local v; v=$(metric "$1" "$2" "$3"); [ "$v" != none ] && [ "$v" -gt "$4" ]; }

# rule X N KIND: network X's masquerade rule ("masq", nat) or forward rule
# ("fwd", filter) on node N, as iptables-save prints it.
rule() {
	local net
	net=$(network_of "$1")
	case $3 in
	masq) echo "-A FLANNEL-POSTRTG -s $net ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully" ;;
	fwd) echo "-A FLANNEL-FWD -d $net -m comment --comment \"flanneld forward\" -j ACCEPT" ;;
	esac
}
table_of() { case $1 in masq) echo nat ;; fwd) echo filter ;; esac; }
has_rule() { grep -qxF -- "$(rule "$@")" <<<"$(ip netns exec "$P-n$2" iptables-save -t "$(table_of "$3")")"; }
# both_rules N: node N has both networks' masquerade and forward rules.
both_rules() {
	local x k
	for x in v h; do for k in masq fwd; do has_rule "$x" "$1" "$k" || return 1; done; done
}
dummy_ip() { local s; s=$(subnet_of "$1"); echo "${s%/*}"; }
in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}
routes() { ip -n "$1" -4 route show | grep -v 'proto kernel' | sort; }
all_routes() { for n in "$@"; do routes "$P-n$n"; done; }

# ping_all X N...: on network X every listed node pings every other one from its dummy-X.
ping_all() {
	local x=$1 a b
	shift
	for a in "$@"; do
		for b in "$@"; do
			[ "$a" = "$b" ] && continue
			in_ns "$P-n$a" ping -c 1 -W 2 -I "$(dummy_ip "$x$a")" "$(dummy_ip "$x$b")" \
				>/dev/null || fail "$(name_of "$x"): node $a cannot reach node $b"
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
	ip -n "$P-n$n" link add "dummy-$x" type veth peer name "dummy-${x}p"
	ip -n "$P-n$n" addr add "$(subnet_of "$x$n")" dev "dummy-$x"
	ip -n "$P-n$n" link set "dummy-${x}p" up
	ip -n "$P-n$n" link set "dummy-$x" up
}

# net_of XN: the subnet of network X's lease on node N (FLANNEL_SUBNET is its first address).
net_of() {
	local s
	s=$(subnet_of "$1")
	echo "${s%.*}.0/${s#*/}"
}

# check_routes N...: each node has a vxlan route (flannel.1) and a host-gw
# route (eth0) to every other listed node's subnets, and no other flannel route.
check_routes() {
	local a b got gw
	for a in "$@"; do
		got=$(ip -n "$P-n$a" -4 route show proto 63 | awk '{print $1, $2, $3, $4, $5}')
		for b in "$@"; do
			[ "$a" = "$b" ] && continue
			gw=$(net_of "v$b")
			grep -qx "$(net_of "v$b") via ${gw%/*} dev flannel.1" <<<"$got" ||
				fail "node $a lacks the vxlan route to node $b: $got"
			grep -qx "$(net_of "h$b") via 203.0.113.$b dev eth0" <<<"$got" ||
				fail "node $a lacks the host-gw route to node $b: $got"
		done
		[ "$(grep -c . <<<"$got")" = $((2 * ($# - 1))) ] ||
			fail "node $a has other flannel routes: $got"
	done
}

for x in v h; do
	ectl put "$(prefix_of "$x")/config" \
		"{\"Network\": \"$(network_of "$x")\", \"Backend\": {\"Type\": \"$(name_of "$x")\"}}" >/dev/null
done
for n in 1 2 3; do
	node "$n"
	flanneld v "$n"
	flanneld h "$n"
done
for x in v h; do
	for n in 1 2 3; do
		wait_for 30 "$(name_of "$x") node $n's subnet.env" test -s "$W/$x$n/subnet.env"
		add_dummy "$x" "$n"
	done
	s=$(for n in 1 2 3; do subnet_of "$x$n"; done | sort -u | wc -l)
	[ "$s" = 3 ] || fail "$(name_of "$x"): subnets not distinct: $(cat "$W/$x"*/subnet.env)"
	[ "$(ectl get --prefix --keys-only "$(prefix_of "$x")/subnets/" | grep -c .)" = 3 ] ||
		fail "$(name_of "$x"): not three leases under $(prefix_of "$x")"
done
wait_mesh v 1 2 3
wait_mesh h 1 2 3
ok "two networks on the same three nodes: distinct subnets, each node reaches the others on both"

# Neither flanneld takes the other's routes for its own: every full pass
# (at start and every 10 s) would delete them. Nor the other's traffic rules
# in the shared chains: every check would rewrite them. A check runs when
# nf_tables reports a change of the nat or filter table (or every 60 s), so
# a chain of nobody's is made and removed every second. Watch for 25 s.
check_routes 1 2 3
for n in 1 2 3; do wait_for 10 "node $n's traffic rules of both networks" both_rules "$n"; done
# the managers started at the same moment: let a start-up race settle (2 periods)
sleep 5
declare -A REP CHK
for x in v h; do for n in 1 2 3; do
	REP[$x$n]=$(repairs "$x" "$n") CHK[$x$n]=$(checks "$x" "$n")
	[ "${REP[$x$n]}" != none ] || fail "no metrics from $(name_of "$x")'s flanneld on node $n"
done; done
before=$(all_routes 1 2 3)
for _ in $(seq 25); do
	sleep 1
	for n in 1 2 3; do
		ip netns exec "$P-n$n" iptables -t nat -N TEST-NOBODYS
		ip netns exec "$P-n$n" iptables -t nat -X TEST-NOBODYS
	done
	[ "$(all_routes 1 2 3)" = "$before" ] ||
		fail "routes changed with nothing happening: $(diff <(echo "$before") <(all_routes 1 2 3))"
done
ping_all v 1 2 3
ping_all h 1 2 3
for x in v h; do for n in 1 2 3; do
	[ "$(repairs "$x" "$n")" = "${REP[$x$n]}" ] ||
		fail "$(name_of "$x") on node $n rewrote its traffic rules with nothing happening"
	[ "$(checks "$x" "$n")" -ge $((CHK[$x$n] + 10)) ] ||
		fail "$(name_of "$x") on node $n: fewer than 10 rule checks in 25 s"
done; done
for n in 1 2 3; do both_rules "$n" || fail "node $n lost traffic rules"; done
ok "both networks' routes and traffic rules survived 25 s (25 nat table changes) untouched"

# a rule of either network deleted by hand: restored by its own flanneld only
for c in "v masq" "h fwd" "h masq" "v fwd"; do
	read -r x k <<<"$c"
	y=$([ "$x" = v ] && echo h || echo v)
	rx=$(repairs "$x" 1) ry=$(repairs "$y" 1)
	spec=$(rule "$x" 1 "$k")
	eval "ip netns exec $P-n1 iptables -t $(table_of "$k") -D ${spec#-A }"
	has_rule "$x" 1 "$k" && fail "could not delete $spec"
	wait_for 10 "$(name_of "$x")'s $k rule back" has_rule "$x" 1 "$k"
	wait_for 10 "$(name_of "$x")'s repair counted" metric_gt "$x" 1 flannel_traffic_rules_repairs_total "$rx"
	[ "$(repairs "$y" 1)" = "$ry" ] || fail "$(name_of "$y") rewrote rules for $(name_of "$x")'s"
	both_rules 1 || fail "node 1 lost traffic rules in $(name_of "$x")'s repair"
done
ping_all v 1 2 3
ping_all h 1 2 3
ok "a hand-deleted traffic rule of either network is restored by its own flanneld alone"

# a restart keeps the subnet, and traffic flows right after
for x in v h; do
	s=$(subnet_of "${x}2")
	kill -TERM "${FPID[${x}2]}"
	wait "${FPID[${x}2]}" 2>/dev/null || true
	flanneld "$x" 2
	wait_for 20 "node 2's $(name_of "$x") lease after the restart" \
		grep -q 'Found lease' "$W/${x}2/flanneld.log"
	[ "$(subnet_of "${x}2")" = "$s" ] || fail "$(name_of "$x"): node 2 changed its subnet over a restart"
	ping_all v 1 2 3
	ping_all h 1 2 3
	ok "$(name_of "$x"): a restarted node keeps its subnet, both networks carry traffic"
done

# etcd away: no route changes, no ping fails, nobody exits
before=$(all_routes 1 2 3)
kill -KILL "$ETCD_PID"
wait "$ETCD_PID" 2>/dev/null || true
ETCD_PID=
for _ in 1 2 3; do
	sleep 2
	ping_all v 1 2 3
	ping_all h 1 2 3
done
after=$(all_routes 1 2 3)
[ "$before" = "$after" ] || fail "routes changed while etcd was down"
for p in "${FPID[@]}"; do kill -0 "$p" || fail "flanneld $p exited"; done
start_etcd
ok "etcd down for 6 s left the datapath of both networks untouched"

# the watches are back: a late node is reachable from everyone on both networks
node 4
flanneld v 4
flanneld h 4
for x in v h; do
	wait_for 30 "node 4's $(name_of "$x") subnet.env" test -s "$W/${x}4/subnet.env"
	add_dummy "$x" 4
done
wait_mesh v 1 2 3 4
wait_mesh h 1 2 3 4
check_routes 1 2 3 4
ok "after etcd came back a new node is reachable from all on both networks"

# the two networks stayed apart in etcd
ectl get --prefix --keys-only /vxlan/network/subnets/ | grep -q '198\.19\.' && fail "mixed prefixes"
ectl get --prefix --keys-only /hostgw/network/subnets/ | grep -q '198\.18\.' && fail "mixed prefixes"
echo "PASS"
