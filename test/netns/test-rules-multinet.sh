#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Two flannel networks on one node, as upstream's multi-network setup: two
# traffic managers (rules-driver, flanneld's traffic steps) with --ip-masq
# and forward rules keep their rules in the same chains (iptables mode:
# FLANNEL-POSTRTG, FLANNEL-FWD; nftables mode: ip flannel-ipv4 and ip6
# flannel-ipv6), IPv4 and IPv6, resyncing every second (topology in
# rules-lib.sh). For iptables mode, then for nftables mode:
#   1. both start at the same moment; afterwards each network's rules are
#      all there, in upstream's order;
#   2. over several resync periods neither writes anything (applies and
#      repairs stay flat, every pass repaired=0): they no longer delete
#      each other's rules;
#   3. a rule of either network deleted by hand is restored by that
#      network's manager alone (only its repairs counter moves), and the
#      other network's rules are untouched;
#   4. iptables mode with FORWARD policy DROP: the pod's forwarded traffic
#      still flows and is masqueraded while the other network's manager
#      runs (its rewrites never drop our accept rules).
SHORT=mnet
. "$(dirname "$0")/rules-lib.sh"

setup_topology

# network a: the topology's (rules-lib.sh); network b: another flannel network
NET_A=(198.18.0.0/16 198.18.1.0/24 2001:db8:1::/48 2001:db8:1:1::/64)
NET_B=(198.19.0.0/16 198.19.1.0/24 2001:db8:2::/48 2001:db8:2:1::/64)
flags() { # <a|b>
	local -n n=NET_${1^^}
	echo "--network=${n[0]} --subnet=${n[1]} --ipv6-network=${n[2]} --ipv6-subnet=${n[3]}"
}
start() { # <mode> <a|b>
	# shellcheck disable=SC2046
	# not in_node: `ip netns exec` execs the driver, so $! is the driver itself
	ip netns exec "$NS_NODE" "$DRIVER" --mode="$1" --ip-masq $(flags "$2") --iptables-resync=1 \
		--iterations=0 >"$TMP/$2.out" 2>"$TMP/$2.log" &
	BG_PIDS+=($!)
	eval "PID_$2=$!"
}
stop() { # <a|b>
	local pid
	eval "pid=\$PID_$1"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
passes() { grep -c '^resync' "$TMP/$1.out" || true; }
passes_ge() { [ "$(passes "$1")" -ge "$2" ]; }
counter() { # <a|b> <name>: the counter in the last line of the manager's output
	tail -n 1 "$TMP/$1.out" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
wait_passes() { # <a|b> <n more passes>
	wait_for $(($2 * 3 + 5)) passes_ge "$1" $(($(passes "$1") + $2)) ||
		fail "$1: fewer than $2 more resync passes"
}

# Upstream's rules of one network, in order: masquerade, then forward.
expect() { # <mode> <4|6> <a|b>
	local -n n=NET_${3^^}
	local N L mc f
	if [ "$2" = 4 ]; then N=${n[0]} L=${n[1]} mc=224.0.0.0/4 f=ip; else N=${n[2]} L=${n[3]} mc=ff00::/8 f=ip6; fi
	if [ "$1" = iptables ]; then
		local c='-m comment --comment "flanneld masq"' d='-m comment --comment "flanneld forward"'
		cat <<EOF
-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 $c -j RETURN
-A FLANNEL-POSTRTG -s $L -d $N $c -j RETURN
-A FLANNEL-POSTRTG -s $N -d $L $c -j RETURN
-A FLANNEL-POSTRTG ! -s $N -d $L $c -j RETURN
-A FLANNEL-POSTRTG -s $N ! -d $mc $c -j MASQUERADE --random-fully
-A FLANNEL-POSTRTG ! -s $N -d $N $c -j MASQUERADE --random-fully
-A FLANNEL-FWD -s $N $d -j ACCEPT
-A FLANNEL-FWD -d $N $d -j ACCEPT
EOF
	else
		cat <<EOF
meta mark 0x00004000 return
$f saddr $L $f daddr $N return
$f saddr $N $f daddr $L return
$f saddr != $L $f daddr $N return
$f saddr $N $f daddr != $mc masquerade fully-random
$f saddr != $N $f daddr $N masquerade fully-random
$f saddr $N accept
$f daddr $N accept
EOF
	fi
}
# The rules of one network as listed (the shared mark rule counts for both).
listed() { # <mode> <4|6> <a|b>
	local -n n=NET_${3^^}
	local N L ipt f t
	if [ "$2" = 4 ]; then N=${n[0]} L=${n[1]} ipt=iptables f=ip t=flannel-ipv4; else N=${n[2]} L=${n[3]} ipt=ip6tables f=ip6 t=flannel-ipv6; fi
	if [ "$1" = iptables ]; then
		{
			in_node $ipt -t nat -S FLANNEL-POSTRTG
			in_node $ipt -S FLANNEL-FWD
		} | grep -F -e "0x4000/0x4000" -e " $N " -e " $L "
	else
		{
			in_node nft list chain $f $t postrtg
			in_node nft list chain $f $t forward
		} | sed 's/^[[:space:]]*//' | grep -F -e "meta mark" -e " $N " -e " $L "
	fi
}
rules_ok() { # <mode> <a|b>
	diff -u <(expect "$1" 4 "$2") <(listed "$1" 4 "$2") &&
		diff -u <(expect "$1" 6 "$2") <(listed "$1" 6 "$2")
}
check_rules() { # <mode> <a|b>
	rules_ok "$1" "$2" || fail "$1: network $2's rules are not upstream's, in order"
}
jumps_once() {
	[ "$(in_node iptables -t nat -S POSTROUTING | grep -c -- '-j FLANNEL-POSTRTG')" = 1 ] &&
		[ "$(in_node iptables -S FORWARD | grep -c -- '-j FLANNEL-FWD')" = 1 ] &&
		[ "$(in_node ip6tables -t nat -S POSTROUTING | grep -c -- '-j FLANNEL-POSTRTG')" = 1 ] &&
		[ "$(in_node ip6tables -S FORWARD | grep -c -- '-j FLANNEL-FWD')" = 1 ]
}

# delete_rule <mode> <4|6> <a|b> <line of expect()>: remove one of a network's rules by hand.
delete_rule() {
	local mode=$1 fam=$2 x=$3 line=$4 rule ipt f t chain h
	rule=$(expect "$mode" "$fam" "$x" | sed -n "${line}p")
	if [ "$fam" = 4 ]; then ipt=iptables f=ip t=flannel-ipv4; else ipt=ip6tables f=ip6 t=flannel-ipv6; fi
	if [ "$mode" = iptables ]; then
		local table=nat
		case "$rule" in "-A FLANNEL-FWD"*) table=filter ;; esac
		eval "in_node $ipt -t $table -D ${rule#-A }" || fail "$mode: could not delete '$rule'"
	else
		chain=postrtg
		[ "$line" -gt 6 ] && chain=forward
		h=$(in_node nft -a list chain $f $t $chain | grep -F "$rule #" | awk '{ print $NF }')
		[ -n "$h" ] || fail "no handle for '$rule'"
		in_node nft delete rule $f $t $chain handle "$h" || fail "$mode: could not delete '$rule'"
	fi
	true
}

for mode in iptables nftables; do
	# --- 1: concurrent start-up --------------------------------------------------
	start "$mode" a
	start "$mode" b
	wait_for 10 rules_ok "$mode" a 2>/dev/null || check_rules "$mode" a
	wait_for 10 rules_ok "$mode" b 2>/dev/null || check_rules "$mode" b
	if [ "$mode" = iptables ]; then
		jumps_once || fail "not exactly one jump per base chain: $(in_node iptables-save)"
	fi
	echo "ok: $mode: both networks' rules in place, each in upstream's order"

	# --- 2: no flapping ------------------------------------------------------------
	# let any start-up race settle (a lost write is put back by its next pass)
	wait_passes a 2
	wait_passes b 2
	declare -A applies repairs first
	for x in a b; do
		applies[$x]=$(counter $x applies) repairs[$x]=$(counter $x repairs)
		first[$x]=$(($(passes $x) + 2)) # the line of the next pass (after "ensure")
	done
	wait_passes a 4
	wait_passes b 4
	for x in a b; do
		[ "$(counter $x applies)" = "${applies[$x]}" ] && [ "$(counter $x repairs)" = "${repairs[$x]}" ] ||
			fail "$mode: network $x rewrote rules with nothing changed: $(cat "$TMP/$x.out")"
		tail -n +"${first[$x]}" "$TMP/$x.out" | grep -v ' repaired=0 ' &&
			fail "$mode: network $x repaired something"
		check_rules "$mode" $x
	done
	echo "ok: $mode: 4 resync periods, no writes by either network (applies: a=${applies[a]}, b=${applies[b]})"

	# --- 3: each network repairs its own ------------------------------------------
	for case in "a 4 5" "b 4 7" "a 6 8" "b 6 2"; do
		read -r x fam line <<<"$case"
		y=$([ "$x" = a ] && echo b || echo a)
		rep_x=$(counter "$x" repairs) rep_y=$(counter "$y" repairs)
		delete_rule "$mode" "$fam" "$x" "$line"
		wait_for 5 rules_ok "$mode" "$x" 2>/dev/null || check_rules "$mode" "$x"
		wait_passes "$x" 1
		wait_passes "$y" 1
		[ "$(counter "$x" repairs)" -gt "$rep_x" ] || fail "$mode: network $x's repair not counted"
		[ "$(counter "$y" repairs)" = "$rep_y" ] || fail "$mode: network $y rewrote for $x's rule"
		check_rules "$mode" "$y"
		echo "ok: $mode: IPv$fam rule $line of network $x deleted by hand, restored by $x alone"
	done
	grep -q "rules in table .* were missing or changed\|Some iptables rules are missing" \
		"$TMP/a.log" || fail "$mode: repair not logged"

	# --- 4: forwarded traffic with policy DROP --------------------------------------
	if [ "$mode" = iptables ]; then
		in_node iptables -P FORWARD DROP
		in_node ip6tables -P FORWARD DROP
		check_datapath
		in_node iptables -P FORWARD ACCEPT
		in_node ip6tables -P FORWARD ACCEPT
	else
		check_datapath
	fi
	stop a
	stop b
done
echo "PASS"
