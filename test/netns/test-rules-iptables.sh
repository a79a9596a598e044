#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The traffic manager in iptables mode, with the system's iptables (Debian 12:
# iptables-nft), against the real kernel in namespaces (topology in
# rules-lib.sh). Checks:
#   1. nftables-mode leftovers (ip flannel-ipv4, ip6 flannel-ipv6) are removed;
#   2. the previous subnet's rules (from subnet.env) are gone after a lease change;
#   3. `iptables -S` golden text for IPv4 and IPv6 equals upstream's e2e listing,
#      with our FORWARD jump behind kube-proxy's four KUBE-* jumps;
#   4. pod -> outside is masqueraded, pod -> another node's pod is not;
#   5. a restart with the same flags writes nothing; restarts that rewrite the
#      chain never leave a moment without the MASQUERADE rule (iptables-save
#      sampled in a tight loop by a concurrent watcher);
#   6. rules removed by hand come back within the resync period, and a quiet
#      resync pass is exactly one iptables-save per table.
SHORT=ipt
. "$(dirname "$0")/rules-lib.sh"

setup_topology
echo "iptables variant in use: $(in_node iptables -V)"

# a previous run of flanneld had lease 198.18.7.0/24
printf 'FLANNEL_NETWORK=198.18.0.0/16\nFLANNEL_SUBNET=198.18.7.1/24\nFLANNEL_IPV6_NETWORK=2001:db8:1::/48\nFLANNEL_IPV6_SUBNET=2001:db8:1:7::1/64\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n' >"$TMP/subnet.env"
in_node "$DRIVER" --mode=iptables --ip-masq --network=198.18.0.0/16 --subnet=198.18.7.0/24 \
	--ipv6-network=2001:db8:1::/48 --ipv6-subnet=2001:db8:1:7::/64 >/dev/null
grep -q -- "-s 198.18.7.0/24" <<<"$(in_node iptables-save -t nat)" || fail "setup: previous rules missing"

# then kube-proxy appended its FORWARD jumps (as in the e2e golden listing)
# behind ours, and nftables mode left its tables
in_node iptables -N KUBE-PROXY-FIREWALL
in_node iptables -N KUBE-FORWARD
in_node iptables -N KUBE-SERVICES
in_node iptables -N KUBE-EXTERNAL-SERVICES
in_node iptables -A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
in_node iptables -A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
in_node iptables -A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
in_node iptables -A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
in_node nft add table ip flannel-ipv4
in_node nft add table ip6 flannel-ipv6

# --- 1-3: start-up -------------------------------------------------------------
# upstream's pre-flight check, with a hint (here against a directory without the sysctls)
in_node "$DRIVER" --mode=iptables --ip-masq "${NETS[@]}" --check-br-netfilter="$TMP/nobridge" \
	>/dev/null 2>"$TMP/log" && fail "started without br_netfilter"
grep -q "Failed to check br_netfilter: stat $TMP/nobridge/bridge-nf-call-iptables: no such file or directory (.*modprobe br_netfilter" \
	"$TMP/log" || fail "br_netfilter message: $(cat "$TMP/log")"
echo "ok: br_netfilter check fails with upstream's message and a hint"
in_node "$DRIVER" --mode=iptables --ip-masq "${NETS[@]}" --prev-subnet-file="$TMP/subnet.env" \
	--check-br-netfilter 2>"$TMP/log"
grep -q "is not equal to previous one" "$TMP/log" || fail "no recycle message: $(cat "$TMP/log")"
in_node nft list tables | grep -q flannel && fail "nftables leftovers not removed: $(in_node nft list tables)"
echo "ok: nftables leftovers removed"
in_node iptables-save | grep -q "198.18.7" && fail "previous subnet's IPv4 rules left"
in_node ip6tables-save | grep -q "2001:db8:1:7::" && fail "previous subnet's IPv6 rules left"
echo "ok: previous subnet's rules recycled"

golden_nat() { # <cmd> <N> <L> <multicast>
	local c='-m comment --comment "flanneld masq"'
	cat <<EOF
-A POSTROUTING $c -j FLANNEL-POSTRTG
-N FLANNEL-POSTRTG
-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 $c -j RETURN
-A FLANNEL-POSTRTG -s $3 -d $2 $c -j RETURN
-A FLANNEL-POSTRTG -s $2 -d $3 $c -j RETURN
-A FLANNEL-POSTRTG ! -s $2 -d $3 $c -j RETURN
-A FLANNEL-POSTRTG -s $2 ! -d $4 $c -j MASQUERADE --random-fully
-A FLANNEL-POSTRTG ! -s $2 -d $2 $c -j MASQUERADE --random-fully
EOF
}
golden_fwd() { # <N> <kube-proxy jumps: yes/no>
	local c='-m comment --comment "flanneld forward"'
	echo "-P FORWARD ACCEPT"
	if [ "$2" = yes ]; then
		cat <<'EOF'
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
EOF
	fi
	cat <<EOF
-A FORWARD $c -j FLANNEL-FWD
-N FLANNEL-FWD
-A FLANNEL-FWD -s $1 $c -j ACCEPT
-A FLANNEL-FWD -d $1 $c -j ACCEPT
EOF
}
# what upstream's e2e reads back
listing() { # <iptables|ip6tables>
	in_node "$1" -t nat -S POSTROUTING | grep FLANNEL || true
	in_node "$1" -t nat -S FLANNEL-POSTRTG
	in_node "$1" -S FORWARD
	in_node "$1" -S FLANNEL-FWD
}
expect_v4() { golden_nat x 198.18.0.0/16 198.18.1.0/24 224.0.0.0/4; golden_fwd 198.18.0.0/16 yes; }
expect_v6() { golden_nat x 2001:db8:1::/48 2001:db8:1:1::/64 ff00::/8; golden_fwd 2001:db8:1::/48 no; }
check_golden() {
	diff -u <(expect_v4) <(listing iptables) || fail "IPv4 listing differs from upstream's"
	diff -u <(expect_v6) <(listing ip6tables) || fail "IPv6 listing differs from upstream's"
}
golden_ok() {
	diff -q <(expect_v4) <(listing iptables) >/dev/null &&
		diff -q <(expect_v6) <(listing ip6tables) >/dev/null
}
check_golden
echo "ok: iptables -S golden text (IPv4, IPv6), flannel's FORWARD jump after kube-proxy's"

# --- 4: datapath -----------------------------------------------------------------
check_datapath

# --- 5: restarts -----------------------------------------------------------------
out=$(in_node "$DRIVER" --mode=iptables --ip-masq "${NETS[@]}" 2>/dev/null)
case "$out" in *" applies=0 "*) ;; *) fail "unchanged restart wrote rules: $out" ;; esac
echo "ok: restart with unchanged rules writes nothing ($out)"

# watcher: every sample of the nat table must hold the pod->outside MASQUERADE rule
in_node bash -c '
	n=0 miss=0
	while [ ! -e "$1/stop" ]; do
		s=$(iptables-save -t nat)
		n=$((n + 1))
		case "$s" in *"-s 198.18.0.0/16 ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE"*) ;; *) miss=$((miss + 1)) ;; esac
	done
	echo "$n $miss" >"$1/watch"
' _ "$TMP" &
BG_PIDS+=($!)
for i in $(seq 10); do
	# alternate --random-fully so that every restart really rewrites the chain
	flag=--ip-masq-fully-random-disable=$([ $((i % 2)) = 1 ] && echo true || echo false)
	out=$(in_node "$DRIVER" --mode=iptables --ip-masq "${NETS[@]}" "$flag" 2>/dev/null)
	case "$out" in *" applies=0 "*) fail "restart $i did not rewrite: $out" ;; esac
done
touch "$TMP/stop"
wait_for 10 test -s "$TMP/watch" || fail "watcher did not finish"
read -r samples misses <"$TMP/watch"
[ "$samples" -ge 20 ] || fail "watcher took only $samples samples"
[ "$misses" = 0 ] || fail "masquerade rule missing in $misses of $samples samples during restarts"
echo "ok: 10 rewriting restarts, masquerade rule present in all $samples iptables-save samples"
check_golden

# --- 6: resync -------------------------------------------------------------------
in_node "$DRIVER" --mode=iptables --ip-masq "${NETS[@]}" --iptables-resync=1 --iterations=0 \
	>"$TMP/resync.out" 2>"$TMP/resync.log" &
BG_PIDS+=($!)
wait_for 5 grep -q '^resync' "$TMP/resync.out" || fail "no resync pass"
passes() { [ "$(grep -c '^resync' "$TMP/resync.out")" -ge "$1" ]; }
wait_for 6 passes 3 || fail "too few resync passes"
# quiet passes: 4 execs each (nat + filter, IPv4 + IPv6), no writes
awk '/^resync/ { split($3, e, "="); if (prev && e[2] - prev != 4) bad = 1; prev = e[2] } END { exit bad }' \
	"$TMP/resync.out" || fail "a quiet resync pass was not exactly one iptables-save per table: $(cat "$TMP/resync.out")"
grep '^resync' "$TMP/resync.out" | grep -qv "repaired=0" && fail "quiet pass repaired something"
echo "ok: a quiet resync pass is one iptables-save per table and no write"

in_node iptables -t nat -D FLANNEL-POSTRTG 5
in_node iptables -D FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
in_node ip6tables -t nat -F FLANNEL-POSTRTG
wait_for 5 golden_ok || check_golden
grep -q "Some iptables rules are missing" "$TMP/resync.log" || fail "repair not logged"
echo "ok: rules deleted by hand restored within the resync period"
check_datapath
echo "PASS"
