#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The traffic manager in nftables mode ("EnableNFTables": true) with the nft
# program, against the real kernel in namespaces (topology in rules-lib.sh).
# Checks:
#   1. iptables-mode leftovers (jumps, FLANNEL-POSTRTG, FLANNEL-FWD; IPv4 and
#      IPv6) are removed, kube-proxy's rules are kept;
#   2. `nft list chain ip flannel-ipv4 postrtg|forward` (and ip6) equal
#      upstream's e2e golden text;
#   3. pod -> outside is masqueraded, pod -> another node's pod is not;
#   4. a restart with the same flags writes nothing; restarts that rewrite the
#      table never leave a moment without the masquerade rule (nft list
#      sampled by a concurrent watcher);
#   5. a flushed chain, a deleted rule and a deleted table come back within
#      the resync period.
SHORT=nft
. "$(dirname "$0")/rules-lib.sh"

setup_topology
echo "nft in use: $(in_node nft -v); iptables leftovers written with: $(in_node iptables -V)"

# iptables mode ran before (IPv4 and IPv6), and kube-proxy has its own rules
in_node "$DRIVER" --mode=iptables --ip-masq "${NETS[@]}" >/dev/null 2>&1
in_node iptables -t nat -N KUBE-POSTROUTING
in_node iptables -t nat -A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
grep -q FLANNEL-FWD <<<"$(in_node iptables-save)" || fail "setup: no iptables rules"

# --- 1-2: start-up ---------------------------------------------------------------
in_node "$DRIVER" --mode=nftables --ip-masq "${NETS[@]}" --check-br-netfilter=/nonexistent \
	2>"$TMP/log" >/dev/null || fail "start-up failed: $(cat "$TMP/log")"
in_node iptables-save | grep -q FLANNEL && fail "IPv4 iptables leftovers: $(in_node iptables-save)"
in_node ip6tables-save | grep -q FLANNEL && fail "IPv6 iptables leftovers: $(in_node ip6tables-save)"
grep -q -- "-j KUBE-POSTROUTING" <<<"$(in_node iptables-save -t nat)" || fail "kube-proxy's jump removed"
echo "ok: iptables leftovers removed (kube-proxy's rules kept); br_netfilter check skipped"

golden() { # <ip|ip6> <table> <N> <L> <multicast>
	cat <<EOF
table $1 $2 {
	chain postrtg {
		comment "chain to manage traffic masquerading by flannel"
		type nat hook postrouting priority srcnat; policy accept;
		meta mark 0x00004000 return
		$1 saddr $4 $1 daddr $3 return
		$1 saddr $3 $1 daddr $4 return
		$1 saddr != $4 $1 daddr $3 return
		$1 saddr $3 $1 daddr != $5 masquerade fully-random
		$1 saddr != $3 $1 daddr $3 masquerade fully-random
	}
}
table $1 $2 {
	chain forward {
		comment "chain to accept flannel traffic"
		type filter hook forward priority filter; policy accept;
		$1 saddr $3 accept
		$1 daddr $3 accept
	}
}
EOF
}
listing() { # <ip|ip6> <table>: what upstream's e2e reads back
	in_node nft list chain "$1" "$2" postrtg
	in_node nft list chain "$1" "$2" forward
}
check_golden() {
	diff -u <(golden ip flannel-ipv4 198.18.0.0/16 198.18.1.0/24 224.0.0.0/4) \
		<(listing ip flannel-ipv4) || fail "ip flannel-ipv4 differs from upstream's"
	diff -u <(golden ip6 flannel-ipv6 2001:db8:1::/48 2001:db8:1:1::/64 ff00::/8) \
		<(listing ip6 flannel-ipv6) || fail "ip6 flannel-ipv6 differs from upstream's"
}
golden_ok() {
	diff -q <(golden ip flannel-ipv4 198.18.0.0/16 198.18.1.0/24 224.0.0.0/4) \
		<(listing ip flannel-ipv4 2>/dev/null) >/dev/null &&
		diff -q <(golden ip6 flannel-ipv6 2001:db8:1::/48 2001:db8:1:1::/64 ff00::/8) \
			<(listing ip6 flannel-ipv6 2>/dev/null) >/dev/null
}
check_golden
echo "ok: nft list chain golden text (ip flannel-ipv4, ip6 flannel-ipv6)"

# --- 3: datapath -----------------------------------------------------------------
check_datapath

# --- 4: restarts -----------------------------------------------------------------
out=$(in_node "$DRIVER" --mode=nftables --ip-masq "${NETS[@]}" 2>/dev/null)
case "$out" in *" applies=0 "*) ;; *) fail "unchanged restart wrote rules: $out" ;; esac
echo "ok: restart with unchanged rules writes nothing ($out)"

in_node bash -c '
	n=0 miss=0
	while [ ! -e "$1/stop" ]; do
		s=$(nft list chain ip flannel-ipv4 postrtg 2>&1)
		n=$((n + 1))
		case "$s" in *"ip saddr 198.18.0.0/16 ip daddr != 224.0.0.0/4 masquerade"*) ;; *) miss=$((miss + 1)) ;; esac
	done
	echo "$n $miss" >"$1/watch"
' _ "$TMP" &
BG_PIDS+=($!)
for i in $(seq 10); do
	flag=--ip-masq-fully-random-disable=$([ $((i % 2)) = 1 ] && echo true || echo false)
	out=$(in_node "$DRIVER" --mode=nftables --ip-masq "${NETS[@]}" "$flag" 2>/dev/null)
	case "$out" in *" applies=0 "*) fail "restart $i did not rewrite: $out" ;; esac
done
touch "$TMP/stop"
wait_for 10 test -s "$TMP/watch" || fail "watcher did not finish"
read -r samples misses <"$TMP/watch"
[ "$samples" -ge 20 ] || fail "watcher took only $samples samples"
[ "$misses" = 0 ] || fail "masquerade rule missing in $misses of $samples samples during restarts"
echo "ok: 10 rewriting restarts, masquerade rule present in all $samples nft listings"
check_golden

# --- 5: resync -------------------------------------------------------------------
in_node "$DRIVER" --mode=nftables --ip-masq "${NETS[@]}" --iptables-resync=1 --iterations=0 \
	>"$TMP/resync.out" 2>"$TMP/resync.log" &
BG_PIDS+=($!)
passes() { [ "$(grep -c '^resync' "$TMP/resync.out")" -ge "$1" ]; }
wait_for 6 passes 2 || fail "no resync passes"
grep '^resync' "$TMP/resync.out" | grep -qv "repaired=0" && fail "quiet pass repaired something"

in_node nft flush chain ip flannel-ipv4 postrtg
wait_for 5 golden_ok || check_golden
handle=$(in_node nft -a list chain ip6 flannel-ipv6 forward | awk '/saddr/ { print $NF }')
in_node nft delete rule ip6 flannel-ipv6 forward handle "$handle"
wait_for 5 golden_ok || check_golden
in_node nft delete table ip flannel-ipv4
wait_for 5 golden_ok || check_golden
grep -q "were missing or changed; restored them" "$TMP/resync.log" || fail "repair not logged"
echo "ok: flushed chain, deleted rule and deleted table restored within the resync period"
check_datapath
echo "PASS"
