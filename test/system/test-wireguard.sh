#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The wireguard backend on three nodes with wireguard-go (the userspace
# implementation, FLANNEL_WIREGUARD=userspace, so that the test means the
# same on a kernel with the module). Each node's flanneld runs in a mount
# namespace of its own (node_mount_ns) so that the three flannel-wg devices'
# UAPI sockets do not collide. Dual stack throughout:
#   1. pods reach each other over IPv4 and IPv6; devices, addresses, the
#      Network route, MTU 1500 - 80, annotations {"PublicKey","Port"};
#   2. the underlay carries only UDP to the WireGuard ports between nodes
#      (captured on the bridge: no pod address, nothing else);
#   3. a restart of flanneld under traffic: no packet lost, no peer written,
#      the same wireguard-go keeps running;
#   4. wireguard-go killed: flanneld restarts it and pods reach each other;
#   5. key rotation: node 2's key file removed, flanneld restarted: a new
#      key is published, the peers replace it, the old key is gone;
#   6. node deletion: node 3's peer is removed from nodes 1 and 2;
#   7. a peer without a PublicKey is skipped, the others stay.
set -euo pipefail
P=sys-wg-$$
. "$(dirname "$0")/cluster-lib.sh"
trap cluster_cleanup EXIT

A=flannel.alpha.coreos.com
BACKEND='{"Type": "wireguard", "PersistentKeepaliveInterval": 25}'
DUAL_STACK=1
FLANNELD_ENV="FLANNEL_WIREGUARD=userspace"

annotation() { kctl get-node "name=node-$1" | python3 -c '
import json, sys
print(json.load(sys.stdin)["node"]["metadata"]["annotations"].get(sys.argv[1], "<none>"))' "$A/$2"; }

ping_pods6() {
	local n m
	for n in "$@"; do for m in "$@"; do
		[ "$n" = "$m" ] && continue
		pod_ping "$n" 1 "$(pod_ip "$m" 1 6)" || fail "pod on node $n cannot reach pod on node $m over IPv6"
	done; done
}

# wg_peers N DEV: the public keys of the device's peers (wg speaks the UAPI socket).
wg_peers() { in_node_mnt "$1" wg show "$2" peers | sort; }
# wg_pid N DEV: the wireguard-go of node N's device (by its command line, among the node's processes).
wg_pid() {
	local pid
	for pid in $(ip netns pids "$(ns_of "$1")"); do
		[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" = "wireguard-go -f $2 " ] && echo "$pid"
	done
	return 0
}
pubkey_of() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])["PublicKey"])' "$(annotation "$1" backend-data)"; }

start_node() {
	local n=$1
	FLANNELD_ENV="FLANNEL_WIREGUARD=userspace WIREGUARD_KEY_FILE=$WORK/n$n/run/wgkey" start_flanneld "$n" -v 1
}

cluster_underlay
cluster_netconf
for n in 1 2 3; do
	cluster_node "$n"
	node_mount_ns "$n"
done
for n in 1 2 3; do start_node "$n"; done
for n in 1 2 3; do wait_for 30 "node $n ready" node_ready "$n"; done
for n in 1 2 3; do add_pod "$n" 1; done

# ---- 1. the mesh -------------------------------------------------------------------
grep -q "using wireguard-go" "$WORK/n1/flanneld.log" || fail "the driver choice is not logged"
for n in 1 2 3; do
	[ "$(stat -c %a "$WORK/n$n/run/wgkey")" = 400 ] || fail "key file of node $n is not 0400"
	for dev in flannel-wg flannel-wg-v6; do
		[ -n "$(wg_pid "$n" "$dev")" ] || fail "no wireguard-go for $dev on node $n"
		output_has "mtu 1420 " in_node "$n" ip link show "$dev" || fail "MTU of $dev on node $n"
	done
	output_has "inet 198.18.$n.0/32 " in_node "$n" ip -4 addr show flannel-wg || fail "address of flannel-wg on node $n"
	output_has "inet6 2001:db8:42:$n::/128 " in_node "$n" ip -6 addr show flannel-wg-v6 || fail "address of flannel-wg-v6 on node $n"
	output_has "^198.18.0.0/16 dev flannel-wg proto 63 scope link" in_node "$n" ip -4 route show ||
		fail "Network route on node $n: $(in_node "$n" ip -4 route show)"
	output_has "^2001:db8:42::/56 dev flannel-wg-v6 proto 63 " in_node "$n" ip -6 route show ||
		fail "IPv6 Network route on node $n"
	grep -qx FLANNEL_MTU=1420 "$WORK/n$n/run/subnet.env" || fail "subnet.env MTU on node $n"
	[ "$(wg_peers "$n" flannel-wg | wc -l)" = 2 ] || fail "node $n has $(wg_peers "$n" flannel-wg | wc -l) IPv4 peers"
	[ "$(wg_peers "$n" flannel-wg-v6 | wc -l)" = 2 ] || fail "node $n IPv6 peers"
done
[ "$(annotation 2 backend-type)" = wireguard ] || fail "backend-type $(annotation 2 backend-type)"
python3 -c '
import base64, json, sys
d4, d6 = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert list(d4) == ["PublicKey", "Port"] and d4["Port"] == 51820, d4
assert list(d6) == ["PublicKey", "Port"] and d6["Port"] == 51821, d6
assert d4["PublicKey"] == d6["PublicKey"] and len(base64.b64decode(d4["PublicKey"])) == 32
' "$(annotation 2 backend-data)" "$(annotation 2 backend-v6-data)" || fail "backend data of node 2"
# The published key is the one in the key file.
[ "$(wg pubkey <"$WORK/n2/run/wgkey")" = "$(pubkey_of 2)" ] || fail "published key is not the key file's"
output_has "endpoint: 203.0.113.2:51820" in_node_mnt 1 wg show flannel-wg || fail "endpoint of node 2 on node 1"
output_has "allowed ips: 198.18.2.0/24" in_node_mnt 1 wg show flannel-wg || fail "allowed IPs of node 2 on node 1"
output_has "persistent keepalive: every 25 seconds" in_node_mnt 1 wg show flannel-wg || fail "keepalive"
ping_pods 1 2 3
ping_pods6 1 2 3
ok "dual stack: pods reach each other over flannel-wg and flannel-wg-v6 (wireguard-go)"

# ---- 2. only WireGuard on the wire -----------------------------------------------------
cap=$WORK/underlay.pcap
ip netns exec "$NS_UL" tcpdump -i br0 -n -U -w "$cap" >/dev/null 2>&1 &
TCPDUMP=$!
sleep 1
ping_pods 1 2 3
ping_pods6 1 2 3
sleep 0.5
kill -INT "$TCPDUMP"
wait "$TCPDUMP" || true
count() { ip netns exec "$NS_UL" tcpdump -n -r "$cap" "$@" 2>/dev/null | wc -l; }
[ "$(count net 198.18.0.0/16 or net 2001:db8:42::/56)" = 0 ] || fail "pod addresses on the underlay: $(count net 198.18.0.0/16)"
[ "$(count icmp or icmp6 and 'ip6[40] == 128')" = 0 ] || fail "plaintext echo requests on the underlay"
wg_pkts=$(count udp port 51820 or udp port 51821)
[ "$wg_pkts" -ge 12 ] || fail "only $wg_pkts WireGuard packets for 12 pings"
other=$(count not host 203.0.113.254 and not host 2001:db8:1::fe and not arp and not icmp6 \
	and not '(udp and (port 51820 or port 51821))')
[ "$other" = 0 ] || fail "$other packets between nodes that are not WireGuard: $(ip netns exec "$NS_UL" tcpdump -n -r "$cap" not host 203.0.113.254 and not arp and not icmp6 and not udp 2>/dev/null | head -3)"
ok "underlay: $wg_pkts WireGuard packets, no pod address, nothing else between nodes"

# ---- 3. restart under traffic ------------------------------------------------------------
pid_before=$(wg_pid 1 flannel-wg)
sets_before=$(metric 1 flannel_backend_entries_added_total)
dst=$(pod_ip 2 1)
ip netns exec "$(pod_ns 1 1)" ping -i 0.01 -c 600 -W 1 "$dst" >"$WORK/ping-restart.txt" 2>&1 &
PING=$!
sleep 1
log_mark 1
stop_flanneld 1
start_node 1
wait_for 30 "node 1 ready again" node_ready 1
wait "$PING" || true
grep -q " 0% packet loss" "$WORK/ping-restart.txt" || fail "packets lost across the restart: $(tail -2 "$WORK/ping-restart.txt")"
[ "$(wg_pid 1 flannel-wg)" = "$pid_before" ] || fail "wireguard-go was restarted with flanneld"
[ "$(metric 1 flannel_backend_entries_added_total)" = 0 ] || fail "the restart rewrote $(metric 1 flannel_backend_entries_added_total) entries"
log_since 1 | grep -q "Started wireguard-go" && fail "the restart started a new wireguard-go"
ok "restart under traffic: 600 pings, 0 lost, no entry written, wireguard-go adopted (was $sets_before entries)"

# ---- 4. wireguard-go dies ----------------------------------------------------------------
log_mark 2
kill -9 "$(wg_pid 2 flannel-wg)"
wait_for 20 "a new wireguard-go on node 2" output_has "Started wireguard-go" log_since 2
wait_for 20 "node 2's pods reachable again" pod_ping 1 1 "$(pod_ip 2 1)"
ping_pods 1 2 3
ok "wireguard-go killed on node 2: restarted, reconfigured, pods reach each other"

# ---- 5. key rotation ---------------------------------------------------------------------
old=$(pubkey_of 2)
stop_flanneld 2
rm -f "$WORK/n2/run/wgkey"
start_node 2
wait_for 30 "node 2 ready with a new key" node_ready 2
wait_for 20 "node 2's new key published" test "$(pubkey_of 2)" != "$old"
new=$(pubkey_of 2)
for n in 1 3; do
	wait_for 20 "node $n replaces node 2's key" output_has "^$(printf '%s' "$new" | sed 's/[+/]/\\&/g')\$" wg_peers "$n" flannel-wg
	output_has "^$(printf '%s' "$old" | sed 's/[+/]/\\&/g')\$" wg_peers "$n" flannel-wg && fail "node $n keeps node 2's old key"
	output_has "^$(printf '%s' "$old" | sed 's/[+/]/\\&/g')\$" wg_peers "$n" flannel-wg-v6 && fail "node $n keeps node 2's old IPv6 key"
	[ "$(wg_peers "$n" flannel-wg | wc -l)" = 2 ] || fail "node $n: $(wg_peers "$n" flannel-wg | wc -l) peers after the key change"
done
ping_pods 1 2 3
ping_pods6 1 2 3
ok "key rotation: node 2's new key replaced the old one on every peer"

# ---- 6. node deletion --------------------------------------------------------------------
key3=$(pubkey_of 3)
kctl delete-node name=node-3 >/dev/null
for n in 1 2; do
	wait_for 20 "node 3's peer removed on node $n" test "$(wg_peers "$n" flannel-wg | wc -l)" = 1
	output_has "$(printf '%s' "$key3" | sed 's/[+/]/\\&/g')" wg_peers "$n" flannel-wg-v6 && fail "node 3's IPv6 peer stays on node $n"
done
ping_pods 1 2
ok "node deletion: node 3's peers removed, nodes 1 and 2 still reach each other"

# ---- 7. a peer without a key -----------------------------------------------------------------
log_mark 1
kctl add-node name=node-4 "podCIDRs=[\"198.18.4.0/24\",\"2001:db8:42:4::/64\"]" internalIP=203.0.113.4 >/dev/null
kctl modify-node name=node-4 "annotations={\"$A/kube-subnet-manager\":\"true\",\"$A/backend-type\":\"wireguard\",\"$A/backend-data\":\"{\\\"Port\\\":51820}\",\"$A/backend-v6-data\":\"null\",\"$A/public-ip\":\"203.0.113.4\",\"$A/public-ipv6\":\"2001:db8:1::4\"}" >/dev/null
wait_for 20 "node 1 sees node 4" output_has "node-4" http_get 1 /status
wait_for 10 "the warning about node 4" output_has "Not programming peer node-4: its backend-data has no PublicKey" log_since 1
sleep 1
[ "$(log_since 1 | grep -c "Not programming peer node-4")" = 1 ] || fail "not one warning: $(log_since 1 | grep "Not programming")"
[ "$(metric 1 'flannel_peers_skipped{reason="no-public-key"}')" = 1 ] || fail "node 4 is not counted as skipped for its key"
[ "$(wg_peers 1 flannel-wg | wc -l)" = 1 ] || fail "a peer without a key was programmed"
ping_pods 1 2
ok "a peer without a PublicKey is skipped, the others stay"
