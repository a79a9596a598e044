#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The real daemon's traffic rules (--ip-masq), in iptables mode and then in
# nftables mode ("EnableNFTables": true), on a two-node vxlan cluster
# (cluster-lib.sh) plus an "outside" host on the underlay that has no route
# to the pod network:
#   1. a pod reaches the outside host, which sees the node's address (the
#      masquerade), while a pod on the other node sees the pod's own address;
#   2. rules deleted by hand come back within --iptables-resync (2 s here),
#      counted in flannel_traffic_rules_repairs_total; and with an hour's
#      period too, since nf_tables reports the change (lib/rules/nfnotify.h),
#      while a change of a table without our rules starts no check;
#   3. restarting flanneld leaves no moment without the masquerade rule, both
#      with the rules intact and after a hand edit the restart must undo:
#      the rules are sampled in a tight loop during the restarts.
set -euo pipefail
P=sys-ru-$$
. "$(dirname "$0")/cluster-lib.sh"
trap cluster_cleanup EXIT

OUT_IP=203.0.113.100
RESYNC=2

# The outside host: on the underlay bridge, no route to the pods.
outside_host() {
	ip netns add "$P-out"
	ip -n "$NS_UL" link add vout type veth peer name eth0 netns "$P-out"
	ip -n "$NS_UL" link set vout master br0 up
	ip -n "$P-out" link set lo up
	ip -n "$P-out" link set eth0 up
	ip -n "$P-out" addr add "$OUT_IP/24" dev eth0
}

# src_seen SEND_NS RECV_NS RECV_IP: the source address a UDP datagram from
# SEND_NS arrives with at RECV_IP in RECV_NS.
src_seen() {
	local send=$1 recv=$2 ip=$3 pid
	ip netns exec "$recv" timeout 20 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9999))
print(s.recvfrom(64)[1][0])' "$ip" >"$WORK/src-seen" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		ip netns exec "$send" python3 -c '
import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", (sys.argv[1], 9999))' "$ip"
		sleep 0.1
	done
	wait "$pid" || fail "no datagram from $send reached $ip in $recv"
	cat "$WORK/src-seen"
}

# The rules of node N as its mode lists them. Captured before grep: with
# pipefail, `nft ... | grep -q` fails when grep exits before nft wrote everything.
nat_rules() {
	if [ "$NFTABLES" = true ]; then
		in_node "$1" nft list chain ip flannel-ipv4 postrtg
	else
		in_node "$1" iptables-save -t nat
	fi
}
rule_present() { # N NFT-TEXT IPTABLES-TEXT
	local out
	out=$(nat_rules "$1" 2>&1) || return 1
	if [ "$NFTABLES" = true ]; then
		grep -qF -- "$2" <<<"$out"
	else
		grep -qF -- "$3" <<<"$out"
	fi
}
masq_present() {
	rule_present "$1" "ip saddr 198.18.0.0/16 ip daddr != 224.0.0.0/4 masquerade" \
		'-A FLANNEL-POSTRTG -s 198.18.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE'
}
return_present() {
	rule_present "$1" "ip saddr 198.18.1.0/24 ip daddr 198.18.0.0/16 return" \
		'-A FLANNEL-POSTRTG -s 198.18.1.0/24 -d 198.18.0.0/16 -m comment --comment "flanneld masq" -j RETURN'
}
delete_masq() {
	if [ "$NFTABLES" = true ]; then
		in_node 1 nft flush chain ip flannel-ipv4 postrtg
	else
		in_node 1 iptables -t nat -D FLANNEL-POSTRTG -s 198.18.0.0/16 ! -d 224.0.0.0/4 \
			-m comment --comment "flanneld masq" -j MASQUERADE --random-fully
	fi
}
delete_return() {
	if [ "$NFTABLES" = true ]; then
		local h
		h=$(in_node 1 nft -a list chain ip flannel-ipv4 postrtg)
		h=$(awk '/ip saddr 198.18.1.0\/24 ip daddr 198.18.0.0\/16 return/ { print $NF }' <<<"$h")
		in_node 1 nft delete rule ip flannel-ipv4 postrtg handle "$h"
	else
		in_node 1 iptables -t nat -D FLANNEL-POSTRTG -s 198.18.1.0/24 -d 198.18.0.0/16 \
			-m comment --comment "flanneld masq" -j RETURN
	fi
	return_present 1 && fail "could not delete the RETURN rule"
	true
}

# restart_sampled RESYNC [HOOK]: restart flanneld on node 1 (with
# --iptables-resync RESYNC; HOOK runs while it is stopped) while a sampler
# lists the rules in a tight loop; every sample must hold the masquerade rule.
restart_sampled() {
	local resync=$1 hook=${2:-true} sampler n
	rm -f "$WORK/samples" "$WORK/stop-sampling"
	(
		while [ ! -e "$WORK/stop-sampling" ]; do
			if masq_present 1; then echo present; else echo MISSING; fi
		done >"$WORK/samples"
	) &
	sampler=$!
	CLUSTER_PIDS+=($sampler)
	samples() { [ "$(grep -c . "$WORK/samples")" -ge "$1" ]; }
	wait_for 30 "the sampler to start" samples 3
	stop_flanneld 1
	"$hook"
	start_flanneld 1 --iptables-resync "$resync"
	wait_for 30 "node 1 ready after the restart" node_ready 1
	wait_for 30 "the rules to be rewritten" return_present 1
	n=$(grep -c . "$WORK/samples")
	wait_for 30 "more samples after the restart" samples $((n + 3))
	touch "$WORK/stop-sampling"
	wait "$sampler"
	! grep -q MISSING "$WORK/samples" ||
		fail "$(grep -c MISSING "$WORK/samples") of $(grep -c . "$WORK/samples") samples lacked the masquerade rule"
	echo "$(grep -c . "$WORK/samples") samples, all with the masquerade rule"
}

for NFTABLES in false true; do
	mode=$([ "$NFTABLES" = true ] && echo nftables || echo iptables)
	cluster_underlay
	cluster_netconf
	outside_host
	for n in 1 2; do cluster_node "$n"; done
	for n in 1 2; do start_flanneld "$n" --iptables-resync "$RESYNC"; done
	for n in 1 2; do wait_for 30 "node $n ready" node_ready "$n"; done
	for n in 1 2; do add_pod "$n" 1; done
	if [ "$NFTABLES" = true ]; then
		grep -q FLANNEL <<<"$(in_node 1 iptables-save)" && fail "nftables mode left iptables rules"
	else
		grep -q flannel <<<"$(in_node 1 nft list tables)" && fail "iptables mode created nft tables"
	fi
	masq_present 1 || fail "$mode: no masquerade rule on node 1"

	# 1. masquerade to the outside, not between pods
	pod_ping 1 1 "$OUT_IP" || fail "$mode: the pod cannot reach the outside host"
	seen=$(src_seen "$(pod_ns 1 1)" "$P-out" "$OUT_IP")
	[ "$seen" = 203.0.113.1 ] || fail "$mode: the outside host saw $seen, not node 1's 203.0.113.1"
	seen=$(src_seen "$(pod_ns 1 1)" "$(pod_ns 2 1)" "$(pod_ip 2 1)")
	[ "$seen" = "$(pod_ip 1 1)" ] || fail "$mode: pod 2 saw $seen, not pod 1's $(pod_ip 1 1)"
	ok "$mode: pod -> outside masqueraded to the node, pod -> pod keeps its address"

	# 2. rules deleted by hand come back within the resync period
	repairs=$(metric 1 flannel_traffic_rules_repairs_total)
	delete_masq
	# Present again at once only if a check repaired it in between (counted).
	masq_present 1 && ! metric_gt 1 flannel_traffic_rules_repairs_total "$repairs" &&
		fail "$mode: could not delete the masquerade rule"
	wait_for $((RESYNC * 5)) "$mode: the masquerade rule back" masq_present 1
	metric_gt 1 flannel_traffic_rules_repairs_total "$repairs" || fail "$mode: the repair was not counted"
	seen=$(src_seen "$(pod_ns 1 1)" "$P-out" "$OUT_IP")
	[ "$seen" = 203.0.113.1 ] || fail "$mode: after the repair the outside host saw $seen"
	ok "$mode: a deleted masquerade rule came back within --iptables-resync"

	# 2b. the kernel reports nf_tables changes (both modes use nf_tables here):
	# with an hour's period, a deletion is repaired at once, and a change of
	# a table that holds none of our rules starts no check
	stop_flanneld 1
	start_flanneld 1 --iptables-resync 3600 -v 1
	wait_for 30 "node 1 ready after the restart" node_ready 1
	grep -q "Checking the traffic rules when nf_tables reports a change" "$WORK/n1/flanneld.log" ||
		fail "$mode: flanneld does not listen for nf_tables changes"
	checks=$(metric 1 flannel_traffic_rules_checks_total)
	delete_masq
	wait_for 10 "$mode: the masquerade rule back with an hour's period" masq_present 1
	metric_gt 1 flannel_traffic_rules_checks_total "$checks" || fail "$mode: the repair was no check"
	wait_for 10 "$mode: the checks to settle" return_present 1
	sleep 1
	checks=$(metric 1 flannel_traffic_rules_checks_total)
	in_node 1 nft add table ip flannel-test-other
	in_node 1 nft delete table ip flannel-test-other
	sleep 2
	[ "$(metric 1 flannel_traffic_rules_checks_total)" = "$checks" ] ||
		fail "$mode: a change of another table started a check"
	ok "$mode: nf_tables notifications: a deletion repaired without waiting for the period, other tables ignored"

	# 3. restarts never leave a moment without masquerading
	restart_sampled "$RESYNC"
	ok "$mode: a restart with intact rules kept the masquerade rule throughout"
	# with a long resync period only the start-up can restore the RETURN rule
	restart_sampled 3600 delete_return
	ok "$mode: a restart that rewrites the rules kept the masquerade rule throughout"
	pod_ping 1 1 "$(pod_ip 2 1)" || fail "$mode: pods lost connectivity"
	cluster_reset
done
