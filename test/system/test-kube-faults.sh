#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Three flanneld agents (vxlan, topology in cluster-lib.sh) ride out API
# server faults, with pods pinging across nodes before and after each one:
#   1. the API server restarts mid-watch and stays down a few seconds: the
#      agents relist (in-stream 410) and learn a node added while it was down;
#   2. a compaction makes their resourceVersion too old: they relist
#      (flannel_kube_relists_total) and change nothing in the kernel;
#   3. the flannel user's token is rotated: after the 401s each agent re-reads
#      its service-account token file and keeps getting updates;
#   4. a node with a malformed backend-data annotation, a node whose podCIDR is
#      outside the Network and a broken JSON line in the watch stream are each
#      skipped with one warning naming the node and the field (or the stream);
#      every other peer is unaffected and the watch goes on; they are listed
#      in `flanneld status` with their error and in flannel_kube_invalid_nodes
#      until deleted, and an unchanged error is not logged again;
#   5. nodes deleted while the agents are cut off from the server are removed:
#      node-4 through the replayed DELETED event, node-3 by its absence from
#      the relist after a compaction; exactly their route, neighbour and FDB
#      entries go, nothing else.
# "Peers" 4, 5 and 6 are Node objects annotated as a flanneld would, with no
# agent behind them: their kernel entries are what the test looks at.
set -euo pipefail
P=sys-kf-$$
. "$(dirname "$0")/cluster-lib.sh"
trap cluster_cleanup EXIT

A=flannel.alpha.coreos.com
MAC4=0e:00:00:00:00:04

json_str() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$1"; }

# fake_peer NAME PODCIDR PUBLIC_IP BACKEND_DATA
fake_peer() {
	kctl add-node "name=$1" "podCIDR=$2" "internalIP=$3" \
		"annotations.$A/kube-subnet-manager=\"true\"" "annotations.$A/backend-type=vxlan" \
		"annotations.$A/backend-data=$(json_str "$4")" "annotations.$A/public-ip=$3" >/dev/null
}

# has_peer N M PUBLIC_IP MAC: node N has the route, neighbour and FDB entry for 198.18.M.0/24.
has_peer() {
	local n=$1 m=$2 ip=$3 mac=$4
	output_has "via 198.18.$m.0 dev flannel.1 .*onlink" in_node "$n" ip route show "198.18.$m.0/24" &&
		output_has "lladdr $mac PERMANENT" in_node "$n" ip neigh show "198.18.$m.0" dev flannel.1 &&
		output_has "^$mac dst $ip self permanent" in_node "$n" bridge fdb show dev flannel.1
}
lacks_peer() {
	local n=$1 m=$2 mac=$3
	! output_has . in_node "$n" ip route show "198.18.$m.0/24" &&
		! output_has . in_node "$n" ip neigh show "198.18.$m.0" dev flannel.1 &&
		! output_has "^$mac " in_node "$n" bridge fdb show dev flannel.1
}
vtep_mac() { in_node "$1" cat /sys/class/net/flannel.1/address; }

# kernel_state N: node N's flannel entries, one per line, sorted.
kernel_state() {
	{
		in_node "$1" ip route show dev flannel.1
		in_node "$1" ip neigh show dev flannel.1 nud permanent
		in_node "$1" bridge fdb show dev flannel.1 | grep " dst "
	} | sort
}

# relisted N BEFORE: node N's relist counter moved past BEFORE.
relisted() { metric_gt "$1" flannel_kube_relists_total "$2"; }

cluster_underlay
cluster_netconf
for n in 1 2 3; do cluster_node "$n"; done
for n in 1 2 3; do start_flanneld "$n"; done
for n in 1 2 3; do wait_for 30 "node $n ready" node_ready "$n"; done
for n in 1 2 3; do add_pod "$n" 1; done
for n in 1 2 3; do MAC[$n]=$(vtep_mac "$n"); done
ping_pods 1 2 3
ok "three agents converged, pods reach each other"

# ---- 1. restart mid-watch, node added while the server is down ----------------
for n in 1 2 3; do RELISTS[$n]=$(metric "$n" flannel_kube_relists_total); done
kctl restart seconds=4 >/dev/null
grep -q '"listening": false' <<<"$(kctl stats)" || fail "the API server still listens after restart"
fake_peer node-4 198.18.4.0/24 203.0.113.4 "{\"VNI\":1,\"VtepMAC\":\"$MAC4\"}"
for n in 1 2 3; do
	wait_for 60 "node $n to learn node-4 after the restart" has_peer "$n" 4 203.0.113.4 "$MAC4"
	relisted "$n" "${RELISTS[$n]}" || fail "node $n learned node-4 without relisting"
	[ "$(metric "$n" flannel_kube_watch_restarts_total)" -gt 0 ] ||
		fail "node $n did not count the dropped watch"
done
for n in 1 2 3; do for m in 1 2 3; do
	[ "$n" = "$m" ] || has_peer "$n" "$m" "203.0.113.$m" "${MAC[$m]}" ||
		fail "node $n lost node $m's entries over the restart"
done; done
ping_pods 1 2 3
ok "API server restart: agents relisted, learned node-4 added while it was down"

# ---- 2. compaction forces a relist --------------------------------------------
LIST_OK='flannel_kube_api_requests_total{verb="LIST",code="2xx"}'
for n in 1 2 3; do
	RELISTS[$n]=$(metric "$n" flannel_kube_relists_total)
	LISTS[$n]=$(metric "$n" "$LIST_OK")
	in_node "$n" ip monitor route neigh link >"$WORK/monitor-$n" 2>&1 &
	MON[$n]=$!
	CLUSTER_PIDS+=($!)
done
sleep 0.5 # let ip monitor subscribe
# A pod write moves the resourceVersion without a node event, so after the
# compaction every agent's resourceVersion is older than the watch cache.
kctl add-pod name=bump nodeName=node-1 >/dev/null
kctl compact >/dev/null
kctl end-watches >/dev/null
for n in 1 2 3; do
	wait_for 60 "node $n to relist after the compaction" relisted "$n" "${RELISTS[$n]}"
	wait_for 30 "node $n's relist to complete" metric_gt "$n" "$LIST_OK" "${LISTS[$n]}"
	CHECKS[$n]=$(metric "$n" flannel_drift_checks_total)
done
# the periodic check (10 s) compares the kernel with whatever the relist left behind
for n in 1 2 3; do
	wait_for 30 "a periodic check on node $n after the relist" \
		metric_gt "$n" flannel_drift_checks_total "${CHECKS[$n]}"
done
for n in 1 2 3; do
	kill "${MON[$n]}"
	wait "${MON[$n]}" 2>/dev/null || true
	# NOARP neighbours (ff02::16 on flannel.1) are the kernel's own, aged out on its timers
	if grep flannel "$WORK/monitor-$n" | grep -v NOARP; then fail "the relist on node $n changed kernel state"; fi
done
ping_pods 1 2 3
ok "compaction: every agent relisted, kernel state untouched"

# ---- 3. token rotation ---------------------------------------------------------
four_xx() {
	local v t=0
	for v in GET LIST WATCH PATCH; do
		t=$((t + $(metric "$1" "flannel_kube_api_requests_total{verb=\"$v\",code=\"4xx\"}")))
	done
	echo "$t"
}
refused() { [ "$(four_xx "$1")" -gt "${FOUR_XX[$1]}" ]; }
for n in 1 2 3; do
	log_mark "$n"
	FOUR_XX[$n]=$(four_xx "$n")
done
kctl rotate-token user=flannel >/dev/null
kctl cut >/dev/null # the open watches were authenticated with the old token
for n in 1 2 3; do wait_for 60 "node $n to be refused with the old token" refused "$n"; done
for n in 1 2 3; do cp "$STATE/token-flannel" "$WORK/n$n/sa/token"; done
kctl modify-node name=node-4 "annotations.$A/public-ip=203.0.113.40" >/dev/null
for n in 1 2 3; do
	wait_for 90 "node $n to follow node-4's new public IP with the new token" \
		has_peer "$n" 4 203.0.113.40 "$MAC4"
	grep -q "Token file $WORK/n$n/sa/token changed, using the new token" <<<"$(log_since "$n")" ||
		fail "node $n does not say it re-read the token file"
done
ping_pods 1 2 3
ok "token rotation: after the 401s every agent re-read its token file and kept watching"

# ---- 4. malformed nodes and a broken watch line ---------------------------------
for n in 1 2 3; do
	log_mark "$n"
	SKIPPED[$n]=$(metric "$n" flannel_kube_skipped_objects_total)
	RELISTS[$n]=$(metric "$n" flannel_kube_relists_total)
	RESTARTS[$n]=$(metric "$n" flannel_kube_watch_restarts_total)
done
fake_peer node-5 198.18.5.0/24 203.0.113.5 '{"VNI":1,"VtepMAC":"not-a-mac"}'
fake_peer node-6 198.51.100.0/24 203.0.113.6 '{"VNI":1,"VtepMAC":"0e:00:00:00:00:06"}'
# A MODIFIED event cut off before the node name, then a sentinel change after it.
kctl inject-garbage >/dev/null
kctl modify-node name=node-4 "annotations.$A/public-ip=203.0.113.4" >/dev/null
for n in 1 2 3; do
	wait_for 30 "node $n to see the change after the bad input" has_peer "$n" 4 203.0.113.4 "$MAC4"
	log_since "$n" >"$WORK/log-$n"
	[ "$(grep -c '^W.*node "node-5".*backend-data' "$WORK/log-$n")" = 1 ] ||
		fail "node $n: not one warning naming node-5 and backend-data: $(cat "$WORK/log-$n")"
	[ "$(grep -c '^W.*node "node-6".*198\.51\.100\.0/24.*PodCIDR' "$WORK/log-$n")" = 1 ] ||
		fail "node $n: not one warning naming node-6 and its PodCIDR: $(cat "$WORK/log-$n")"
	[ "$(grep -c '^W.*malformed watch event' "$WORK/log-$n")" = 1 ] ||
		fail "node $n: not one warning for the broken watch line: $(cat "$WORK/log-$n")"
	[ "$(grep -c '^[WE]' "$WORK/log-$n")" = 3 ] ||
		fail "node $n: more warnings than the three bad inputs: $(cat "$WORK/log-$n")"
	[ "$(metric "$n" flannel_kube_skipped_objects_total)" = $((SKIPPED[$n] + 3)) ] ||
		fail "node $n: flannel_kube_skipped_objects_total did not count the three bad inputs"
	[ "$(metric "$n" flannel_kube_relists_total)" = "${RELISTS[$n]}" ] &&
		[ "$(metric "$n" flannel_kube_watch_restarts_total)" = "${RESTARTS[$n]}" ] ||
		fail "node $n: the bad input broke the watch"
	[ "$(metric "$n" flannel_peers)" = 3 ] || fail "node $n: flannel_peers is not 3"
	output_has . in_node "$n" ip route show 198.18.5.0/24 && fail "node $n routes malformed node-5"
	output_has 198.51.100 in_node "$n" ip route && fail "node $n routes node-6's foreign podCIDR"
	for m in 1 2 3; do
		[ "$n" = "$m" ] || has_peer "$n" "$m" "203.0.113.$m" "${MAC[$m]}" ||
			fail "node $n: the bad input disturbed node $m's entries"
	done
done
ping_pods 1 2 3
ok "malformed annotations, foreign podCIDR, broken watch line: one warning each, peers unaffected"

# The invalid nodes are listed in the status (with the field) and counted; a new
# event with the same error is not logged again, a different error is.
invalid_listed() { # N NODE REGEX
	output_has "^  $2  .*$3" in_node "$1" "$FLANNELD" status
}
kctl modify-node name=node-6 "annotations.$A/public-ip=203.0.113.66" >/dev/null
kctl modify-node name=node-5 "annotations.$A/backend-data=$(json_str '{"VNI":1,"VtepMAC":"still-bad"}')" >/dev/null
for n in 1 2 3; do
	wait_for 30 "node $n to list node-5's new error" invalid_listed "$n" node-5 'VtepMAC.*still-bad'
	invalid_listed "$n" node-6 '198\.51\.100\.0/24' || fail "node $n: status does not list node-6 as invalid"
	[ "$(metric "$n" flannel_kube_invalid_nodes)" = 2 ] || fail "node $n: flannel_kube_invalid_nodes is not 2"
	log_since "$n" >"$WORK/log-$n"
	[ "$(grep -c '^W.*node "node-6"' "$WORK/log-$n")" = 1 ] ||
		fail "node $n: node-6's unchanged error logged again: $(cat "$WORK/log-$n")"
	[ "$(grep -c '^W.*node "node-5"' "$WORK/log-$n")" = 2 ] ||
		fail "node $n: node-5's new error not logged once: $(cat "$WORK/log-$n")"
done
kctl delete-node name=node-5 >/dev/null
kctl delete-node name=node-6 >/dev/null
no_invalid() { [ "$(metric "$1" flannel_kube_invalid_nodes)" = 0 ]; }
for n in 1 2 3; do
	wait_for 30 "node $n to forget the deleted invalid nodes" no_invalid "$n"
	! output_has "Invalid nodes" in_node "$n" "$FLANNELD" status || fail "node $n still lists invalid nodes"
done
ok "invalid nodes: listed in the status with their error and counted until deleted; an error logged once"

# ---- 5. nodes deleted while the agents are disconnected ---------------------------
# node-4: the server comes back with its watch cache, the DELETED event is replayed.
for n in 1 2; do kernel_state "$n" >"$WORK/state-$n.before"; done
kctl stop >/dev/null
kctl delete-node name=node-4 >/dev/null
kctl start >/dev/null
for n in 1 2 3; do wait_for 60 "node $n to drop node-4" lacks_peer "$n" 4 "$MAC4"; done
for n in 1 2; do
	kernel_state "$n" | diff "$WORK/state-$n.before" - | grep '^[<>]' >"$WORK/diff-$n" || true
	[ "$(grep -c '^<' "$WORK/diff-$n")" = 3 ] && ! grep -q '^>' "$WORK/diff-$n" &&
		[ "$(grep -c "198\.18\.4\.0\|$MAC4" "$WORK/diff-$n")" = 3 ] ||
		fail "node $n: deleting node-4 changed more than its three entries: $(cat "$WORK/diff-$n")"
done
ok "node-4 deleted while the server was down: exactly its entries removed"

# node-3: deleted and compacted away while the server is down; the agents must
# notice by its absence from the relist. Its own agent is gone with it.
stop_flanneld 3
for n in 1 2; do
	RELISTS[$n]=$(metric "$n" flannel_kube_relists_total)
	kernel_state "$n" >"$WORK/state-$n.before"
done
kctl stop >/dev/null
kctl delete-node name=node-3 >/dev/null
kctl compact >/dev/null
kctl start >/dev/null
for n in 1 2; do
	wait_for 60 "node $n to drop node-3" lacks_peer "$n" 3 "${MAC[3]}"
	relisted "$n" "${RELISTS[$n]}" || fail "node $n dropped node-3 without a relist"
	kernel_state "$n" | diff "$WORK/state-$n.before" - | grep '^[<>]' >"$WORK/diff-$n" || true
	[ "$(grep -c '^<' "$WORK/diff-$n")" = 3 ] && ! grep -q '^>' "$WORK/diff-$n" &&
		[ "$(grep -c "198\.18\.3\.0\|${MAC[3]}" "$WORK/diff-$n")" = 3 ] ||
		fail "node $n: deleting node-3 changed more than its three entries: $(cat "$WORK/diff-$n")"
	[ "$(metric "$n" flannel_peers)" = 1 ] || fail "node $n: flannel_peers is not 1"
done
ping_pods 1 2
ok "node-3 deleted and compacted away while disconnected: relist removed exactly its entries"
