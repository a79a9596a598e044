#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Readiness, the status view and signals of the real daemon, on a three-node
# host-gw cluster (cluster-lib.sh):
#   1. /healthz answers 200 from the start, while /readyz is 503 as long as
#      the API server is unreachable (the agents start while it is stopped)
#      and, on node 3, while its Node has no podCIDR;
#   2. an entry the kernel refuses at start does not hold readiness: node 1
#      is ready after its first reconcile, the peer is MISSING and "refused"
#      in the status view, the failure logged once (not on every retry) and
#      counted in flannel_peers_refused; it is added once that is possible;
#   3. the same for a route deleted by hand that cannot come back;
#   4. SIGHUP relists the nodes (flannel_kube_relists_total);
#   5. SIGTERM ends flanneld within 2 s, also while the API server is down,
#      and leaves routes and rules in place;
#   6. on a vxlan cluster, peers that cannot be programmed (another VNI,
#      another backend type, no VtepMAC) do not hold readiness, get no
#      kernel entry, are logged once each (not again on a full pass), listed
#      in the status with their reason and counted by reason in
#      flannel_peers_skipped; a peer moving to our VNI is programmed.
# How an entry is made impossible to add (2, 3): host-gw routes a peer's podCIDR
# via the peer's address on eth0, which the kernel accepts only while that
# address is on-link. Replacing node 1's connected 203.0.113.0/24 route by a
# host route to the API server keeps node 1 talking to the API server but
# makes the kernel refuse "198.18.2.0/24 via 203.0.113.2 dev eth0" (the gateway
# is not on-link: ENETUNREACH) on every attempt, so no repair can race the
# check (unlike a route deleted by hand, which the daemon re-adds at once).
set -euo pipefail
P=sys-rd-$$
. "$(dirname "$0")/cluster-lib.sh"
trap cluster_cleanup EXIT

status_json() { in_node "$1" "$FLANNELD" status --json; }
# status_check N EXPR: a Python expression over node N's status JSON `s` holds.
status_check() {
	status_json "$1" | python3 -c 'import json, sys; s = json.load(sys.stdin); sys.exit(0 if eval(sys.argv[1]) else 1)' "$2"
}
readyz_is() {
	local code
	code=$(in_node "$1" python3 -c '
import urllib.request, urllib.error
try:
    print(urllib.request.urlopen("http://127.0.0.1:8081/readyz", timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)')
	[ "$code" = "$2" ]
}
healthz_ok() { output_has "^flanneld is running$" http_get "$1" /healthz; }

break_onlink() {
	in_node 1 ip route add 203.0.113.254/32 dev eth0 scope link
	in_node 1 ip route del 203.0.113.0/24 dev eth0
}
restore_onlink() {
	in_node 1 ip route add 203.0.113.0/24 dev eth0 proto kernel scope link src 203.0.113.1
	in_node 1 ip route del 203.0.113.254/32 dev eth0
}
route_to() { output_has "^198\.18\.$2\.0/24 via 203\.0\.113\.$2 dev eth0" in_node "$1" ip route show "198.18.$2.0/24"; }

# running PID: the process exists and is not a zombie waiting to be reaped.
running() { [ -e "/proc/$1" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# term_within N SECONDS: SIGTERM to node N's flanneld; it must be gone within SECONDS.
term_within() {
	local pid=${FLANNELD_PID[$1]} deadline
	kill -TERM "$pid"
	deadline=$(($(date +%s%N) + $2 * 1000000000))
	while running "$pid"; do
		[ "$(date +%s%N)" -lt "$deadline" ] || fail "flanneld on node $1 still running $2 s after SIGTERM"
		sleep 0.05
	done
	wait "$pid" || fail "flanneld on node $1 exited with status $? on SIGTERM"
	grep -q "Exiting cleanly" "$WORK/n$1/flanneld.log" || fail "flanneld on node $1 did not exit cleanly"
}

BACKEND=host-gw
cluster_underlay
cluster_netconf
for n in 1 2 3; do cluster_node "$n"; done
kctl modify-node name=node-3 podCIDR=null podCIDRs=null >/dev/null
# node 2 ran flannel before: node 1 knows it as a peer from its first list on
A=flannel.alpha.coreos.com
kctl modify-node name=node-2 "annotations.$A/kube-subnet-manager=\"true\"" \
	"annotations.$A/backend-type=host-gw" "annotations.$A/backend-data=\"null\"" \
	"annotations.$A/public-ip=203.0.113.2" >/dev/null

# ---- 1. API server unreachable --------------------------------------------------
kctl stop >/dev/null
for n in 1 2 3; do start_flanneld "$n"; done
for n in 1 2 3; do wait_for 10 "/healthz on node $n" healthz_ok "$n"; done
listing_failed() { grep -q "Listing nodes failed" "$WORK/n$1/flanneld.log"; }
for n in 1 2 3; do
	wait_for 30 "node $n to fail to reach the API server" listing_failed "$n"
	readyz_is "$n" 503 || fail "node $n: /readyz is not 503 while the API server is down"
	status_check "$n" '"node list" in s["waitingFor"] and "lease" not in s' ||
		fail "node $n: status does not say it waits for the node list: $(status_json "$n")"
	[ "$(metric "$n" flannel_ready)" = 0 ] || fail "node $n: flannel_ready is not 0"
done
[ ! -e "$WORK/n1/run/subnet.env" ] || fail "subnet.env written before the API server answered"
ok "/healthz 200 and /readyz 503 while the API server is unreachable"

# ---- 2./3. subnet.env written, first reconcile impossible; no podCIDR -------------------
break_onlink
kctl start >/dev/null
wait_for 30 "node 2 ready" node_ready 2
wait_for 30 "node 1 to write subnet.env" test -e "$WORK/n1/run/subnet.env"
reconcile_failed() { metric_gt 1 flannel_reconcile_errors_total 0; }
wait_for 30 "node 1's first reconcile to fail" reconcile_failed
wait_for 5 "node 1 ready although the kernel refuses node-2's route" node_ready 1
[ "$(metric 1 flannel_peers_refused)" = 1 ] || fail "flannel_peers_refused is not 1"
in_node 1 "$FLANNELD" status >"$WORK/status.txt"
grep -Eq "^node-2 +198\.18\.2\.0/24 +203\.0\.113\.2 +MISSING +- +- +- +refused: the kernel refuses its route: (Network is unreachable|Invalid argument)$" "$WORK/status.txt" ||
	fail "node 1 status does not mark node-2's route MISSING and refused: $(cat "$WORK/status.txt")"
grep -Eq "^  [0-9T:Z-]+  Failed to set route to 198\.18\.2\.0/24 for node-2, will retry; the kernel refuses it, so readiness does not wait for this peer: (Network is unreachable|Invalid argument)" "$WORK/status.txt" ||
	fail "node 1 status does not list the failure: $(cat "$WORK/status.txt")"
status_check 1 '[(p["healthy"], p.get("refused")) for p in s["peers"]] == [(False, True)] and s["peers"][0]["ipv4"] == {"route": False}' ||
	fail "node 1 JSON status: $(status_json 1)"
# Retried (after 1 s, the delay doubling up to 16 s), reported once.
errors=$(metric 1 flannel_reconcile_errors_total)
wait_for 40 "node 1 to retry" metric_gt 1 flannel_reconcile_errors_total "$errors"
[ "$(grep -c 'Failed to set route to 198.18.2.0/24 for node-2' "$WORK/n1/flanneld.log")" = 1 ] ||
	fail "the refused route is not logged exactly once: $(grep 'Failed to set route' "$WORK/n1/flanneld.log")"
grep -q "flannel is ready: 1 peers, 0 of them skipped and 1 with entries the kernel refuses" "$WORK/n1/flanneld.log" ||
	fail "the ready line does not count the refused peer"
ok "node 1: ready although the kernel refuses node-2's route; MISSING and refused in the status, logged once, flannel_peers_refused 1"

# Node 3 may still be in its list backoff after the outage: wait for it to sync.
node3_waits_for_podcidr() { status_check 3 '"podCIDR" in s["waitingFor"]'; }
wait_for 30 "node 3 to wait for its podCIDR" node3_waits_for_podcidr
readyz_is 3 503 || fail "node 3 ready without a podCIDR"
ok "node 3: /readyz 503 while its Node has no podCIDR"

restore_onlink
wait_for 30 "node 1 to add node-2's route once the kernel accepts it" route_to 1 2
peers_refused_is() { [ "$(metric 1 flannel_peers_refused)" = "$1" ]; }
wait_for 10 "flannel_peers_refused back to 0" peers_refused_is 0
grep -q "Peer node-2 is no longer skipped or refused" "$WORK/n1/flanneld.log" ||
	fail "node-2's recovery is not logged"
kctl modify-node name=node-3 podCIDR=198.18.3.0/24 >/dev/null
wait_for 30 "node 3 ready once it has a podCIDR" node_ready 3
for n in 1 2; do wait_for 30 "node $n to route to node 3" route_to "$n" 3; done
for n in 1 2 3; do [ "$(metric "$n" flannel_ready)" = 1 ] || fail "node $n: flannel_ready is not 1"; done
ok "node-2's route added once possible, and node 3 /readyz 200 once the podCIDR arrived"

# ---- 3. a route deleted by hand that cannot come back -------------------------------
break_onlink
in_node 1 ip route del 198.18.2.0/24
status_missing() {
	in_node 1 "$FLANNELD" status >"$WORK/status.txt" &&
		grep -Eq "^node-2 +198\.18\.2\.0/24 +203\.0\.113\.2 +MISSING " "$WORK/status.txt"
}
wait_for 30 "node 1 status to mark node-2's route MISSING" status_missing
grep -Eq "^node-3 +198\.18\.3\.0/24 +203\.0\.113\.3 +ok " "$WORK/status.txt" ||
	fail "node-3's route is not ok in the status: $(cat "$WORK/status.txt")"
grep -q "Peers:       2, 1 with every kernel entry present" "$WORK/status.txt" ||
	fail "status summary: $(cat "$WORK/status.txt")"
grep -q "Failed to set route to 198.18.2.0/24 for node-2, will retry" "$WORK/status.txt" ||
	fail "status lacks the failure: $(cat "$WORK/status.txt")"
route_to 1 3 || fail "node 1 lost its route to node 3"
restore_onlink
wait_for 30 "node 1 to add the route to node 2 again" route_to 1 2
status_ok() {
	in_node 1 "$FLANNELD" status >"$WORK/status.txt" &&
		grep -q "Peers:       2, 2 with every kernel entry present" "$WORK/status.txt"
}
wait_for 30 "node 1 status healthy again" status_ok
ok "a route the kernel refuses is MISSING in the status, with its error, and repaired once possible"

# ---- 4. SIGHUP relists ------------------------------------------------------------
relists=$(metric 1 flannel_kube_relists_total)
log_mark 1
kill -HUP "${FLANNELD_PID[1]}"
wait_for 30 "a relist on SIGHUP" metric_gt 1 flannel_kube_relists_total "$relists"
grep -q "SIGHUP: re-reading the token and listing the nodes again" <<<"$(log_since 1)" ||
	fail "no SIGHUP message in the log"
kill -0 "${FLANNELD_PID[1]}" || fail "flanneld exited on SIGHUP"
node_ready 1 || fail "node 1 not ready after SIGHUP"
ok "SIGHUP relisted the nodes"

# ---- 5. SIGTERM ----------------------------------------------------------------------
rules() { in_node 1 iptables-save -t nat; }
rules >"$WORK/rules.before"
grep -q "FLANNEL-POSTRTG" "$WORK/rules.before" || fail "no masquerade rules on node 1"
term_within 1 2
for m in 2 3; do route_to 1 "$m" || fail "SIGTERM removed node 1's route to node $m"; done
diff -u <(grep -v '^#' "$WORK/rules.before") <(rules | grep -v '^#') ||
	fail "SIGTERM changed node 1's rules"
ok "SIGTERM: exit within 2 s, routes and rules left in place"
kctl stop >/dev/null
term_within 2 2
route_to 2 1 || fail "SIGTERM while the API server is down removed node 2's route to node 1"
ok "SIGTERM while the API server is down: exit within 2 s, routes left"

# ---- 6. peers skipped: another VNI, another backend type, no VtepMAC ------------------
cluster_reset
BACKEND=vxlan
cluster_underlay
cluster_netconf
for n in 1 2; do cluster_node "$n"; done
# Nodes 3-5 exist only as Node objects, published by agents we do not run.
bd() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$1"; }
fake_node() { # N BACKEND-TYPE BACKEND-DATA
	kctl add-node "name=node-$1" "podCIDR=198.18.$1.0/24" "internalIP=203.0.113.$1" \
		"annotations.$A/kube-subnet-manager=\"true\"" "annotations.$A/backend-type=$2" \
		"annotations.$A/backend-data=$(bd "$3")" "annotations.$A/public-ip=203.0.113.$1" >/dev/null
}
fake_node 3 vxlan '{"VNI":2,"VtepMAC":"0e:00:00:00:00:03"}'
fake_node 4 host-gw null
fake_node 5 vxlan '{"VNI":1}'
for n in 1 2; do start_flanneld "$n"; done
for n in 1 2; do wait_for 30 "node $n ready" node_ready "$n"; done
wait_for 10 "node 1 to route to node 2" output_has "^198\.18\.2\.0/24 via 198\.18\.2\.0 dev flannel\.1" \
	in_node 1 ip route show 198.18.2.0/24
for n in 3 4 5; do
	[ -z "$(in_node 1 ip route show "198.18.$n.0/24")" ] || fail "node 1 routes to skipped node $n"
	[ -z "$(in_node 1 ip neigh show "198.18.$n.0" dev flannel.1)" ] ||
		fail "node 1 has a neighbour for skipped node $n"
done
in_node 1 bridge fdb show dev flannel.1 | grep -q 0e:00:00:00:00:03 && fail "node 1 has an FDB entry for node 3"
for reason in vni backend-type no-vtep-mac; do
	[ "$(metric 1 "flannel_peers_skipped{reason=\"$reason\"}")" = 1 ] ||
		fail "flannel_peers_skipped{reason=\"$reason\"} is not 1"
done
in_node 1 "$FLANNELD" status >"$WORK/status.txt"
for row in "node-3 .* skipped: other VNI 2, ours 1" "node-4 .* skipped: backend type host-gw, ours vxlan" \
	"node-5 .* skipped: no VtepMAC in its backend-data" "node-2 .* ok +ok +ok +- +-"; do
	grep -Eq "^$row$" "$WORK/status.txt" || fail "status lacks \"$row\": $(cat "$WORK/status.txt")"
done
status_check 1 '{p["name"]: p.get("skipped") for p in s["peers"]} == {"node-2": None, "node-3": "vni", "node-4": "backend-type", "node-5": "no-vtep-mac"}' ||
	fail "node 1 JSON status: $(status_json 1)"
# A full pass (a route deleted by hand is repaired) does not report them again.
in_node 1 ip route del 198.18.2.0/24
wait_for 10 "node 1 to repair its route to node 2" output_has "^198\.18\.2\.0/24 via" in_node 1 ip route show 198.18.2.0/24
for msg in "Not programming peer node-3: it announces VNI 2, ours is 1" \
	"Not programming peer node-4: its backend type is host-gw, ours vxlan" \
	"Not programming peer node-5: its backend-data has no VtepMAC"; do
	[ "$(grep -c "$msg" "$WORK/n1/flanneld.log")" = 1 ] ||
		fail "\"$msg\" not logged exactly once: $(grep 'Not programming' "$WORK/n1/flanneld.log")"
done
ok "peers with another VNI, backend type or no VtepMAC: not programmed, node ready, logged once, listed with the reason, counted"

kctl modify-node name=node-3 "annotations.$A/backend-data=$(bd '{"VNI":1,"VtepMAC":"0e:00:00:00:00:03"}')" >/dev/null
wait_for 10 "node 1 to route to node 3 on our VNI" output_has "^198\.18\.3\.0/24 via 198\.18\.3\.0 dev flannel\.1" \
	in_node 1 ip route show 198.18.3.0/24
[ "$(metric 1 'flannel_peers_skipped{reason="vni"}')" = 0 ] || fail "node 3 still counted as skipped"
grep -q "Peer node-3 is no longer skipped or refused" "$WORK/n1/flanneld.log" || fail "node 3's recovery not logged"
ok "a peer moving to our VNI is programmed"
