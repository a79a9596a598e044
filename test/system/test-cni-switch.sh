#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Switching a node's CNI plugin from delegate mode (Debian's bridge and
# host-local, as upstream) to built-in mode with pods running, and back,
# in a dual-stack two-node cluster (cluster-lib.sh):
#   1. pods 1-3 on node 1 and pod 1 on node 2 are made by delegate mode;
#   2. node 1's agent is restarted and its plugin switched to built-in mode
#      (CNI_PATH without bridge and host-local); pod 1 (made by delegate
#      mode) is deleted, pods 4 and 5 are added;
#   3. no address is handed out twice (the reservations are the live pods'
#      addresses, one each), built-in mode carries on after host-local's
#      last reserved address, old and new pods reach each other and the
#      other node (IPv4 and IPv6);
#   4. back to delegate mode: pod 4 (made by built-in mode) is deleted by
#      bridge and host-local, and a new pod 6 reaches the others;
#   5. every pod deleted: no reservation, no veth, no state is left.
set -euo pipefail
P=sys-sw-$$
export DUAL_STACK=1
CNI_MODE=delegate
. "$(dirname "$0")/cluster-lib.sh"
trap cluster_cleanup EXIT

cluster_underlay
cluster_netconf
for n in 1 2; do cluster_node "$n"; done
for n in 1 2; do start_flanneld "$n"; done
for n in 1 2; do wait_for 30 "node $n ready" node_ready "$n"; done

ipam=$WORK/n1/cni/ipam/cbr0
for i in 1 2 3; do add_pod 1 "$i"; done
add_pod 2 1
ok "delegate mode: pods 1-3 on node 1 ($(pod_ip 1 1), $(pod_ip 1 2), $(pod_ip 1 3)), pod 1 on node 2"

# The reservations are exactly the live pods' addresses, one file each, naming that pod.
check_reservations() {
	local pods=$1 i fam want got
	want=$(for i in $pods; do for fam in 4 6; do echo "$(pod_ip 1 "$i" "$fam") $(pod_ns 1 "$i")"; done; done | sort)
	got=$(cd "$ipam" && for f in *; do
		case $f in lock | last_reserved_ip.*) continue ;; esac
		echo "$f $(head -n 1 "$f" | tr -d '\r')"
	done | sort)
	[ "$want" = "$got" ] || fail "reservations on node 1:
$got
but the pods are:
$want"
}
check_reservations "1 2 3"

# Switch: a new agent (restart) and the plugin in built-in mode.
stop_flanneld 1
start_flanneld 1
wait_for 30 "node 1 ready again" node_ready 1
CNI_MODE=builtin
del_pod 1 1
ok "built-in mode deleted pod 1, made by delegate mode"
! [ -e "$ipam/198.18.1.2" ] || fail "pod 1's address still reserved"
add_pod 1 4
add_pod 1 5
[ "$(pod_ip 1 4)" = 198.18.1.5 ] && [ "$(pod_ip 1 4 6)" = 2001:db8:42:1::5 ] ||
	fail "built-in mode did not carry on after host-local's last address: pod 4 has $(pod_ip 1 4), $(pod_ip 1 4 6)"
[ "$(pod_ip 1 5)" = 198.18.1.6 ] || fail "pod 5 has $(pod_ip 1 5)"
check_reservations "2 3 4 5"
ok "built-in mode: pods 4 and 5 got $(pod_ip 1 4) and $(pod_ip 1 5), no address twice"

for src in 2 4; do
	for dst in "$(pod_ip 2 1)" "$(pod_ip 2 1 6)" "$(pod_ip 1 3)" "$(pod_ip 1 5)"; do
		wait_for 10 "pod $src on node 1 to reach $dst" pod_ping 1 "$src" "$dst"
	done
done
for dst in 2 4; do
	pod_ping 2 1 "$(pod_ip 1 "$dst")" || fail "node 2 cannot reach pod $dst of node 1"
	pod_ping 2 1 "$(pod_ip 1 "$dst" 6)" || fail "node 2 cannot reach pod $dst of node 1 (IPv6)"
done
ok "old and new pods reach each other and node 2 (IPv4 and IPv6)"

# And back: delegate mode deletes a pod built-in mode made.
CNI_MODE=delegate
del_pod 1 4
add_pod 1 6
check_reservations "2 3 5 6"
pod_ping 1 6 "$(pod_ip 1 5)" || fail "pod 6 cannot reach pod 5"
pod_ping 1 6 "$(pod_ip 2 1)" || fail "pod 6 cannot reach node 2"
ok "back in delegate mode: pod 4 deleted by bridge + host-local, pod 6 reaches the others"

CNI_MODE=builtin
for i in 2 3 5 6; do del_pod 1 "$i"; done
check_reservations ""
left=$(in_node 1 ip -o link show type veth | grep -v ' eth0@' || true)
[ -z "$left" ] || fail "veths left on node 1: $left"
[ -z "$(ls -A "$WORK/n1/cni/data")" ] || fail "state left: $(ls "$WORK/n1/cni/data")"
ok "every pod deleted: no address, veth or state left"
echo PASS
