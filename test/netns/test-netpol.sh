#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The NetworkPolicy engine on the real kernel datapath, with real TCP and UDP
# connections between pods, on one node (bridged through cni0, seen by the
# table through br_netfilter) and across nodes (routed, host-gw style):
#
#                 [ ul: bridge br0 ]
#                 /                \
#           [ n1 ] eth0 .1      [ n2 ] eth0 .2       203.0.113.N/24, 2001:db8:1::N/64
#          cni0 198.18.1.1/24   cni0 198.18.2.1/24   2001:db8:42:N::1/64
#           /        \              |
#        [x-a]     [x-b]         [y-c]               pods: .2 .3 on n1, .2 on n2
#
# Every pod serves TCP and UDP on ports 80 and 81 (a small Python echo
# server). The objects (Namespaces, Pods, NetworkPolicies) are JSON files
# fed to test/netpol-driver, run once per node and per step like a freshly
# started flanneld: it reads the table back and writes only the difference.
SHORT=np
source "$(dirname "$0")/backend-lib.sh"

NPDRIVER=$BUILD_DIR/test/netpol-driver
NODES=(1 2)
PODS=(x-a x-b y-c)
declare -A POD_NODE=([x-a]=1 [x-b]=1 [y-c]=2)
declare -A POD_HOST=([x-a]=2 [x-b]=3 [y-c]=2)

pod_ns() { echo "$P-p-$1"; }
ip4() { echo "198.18.${POD_NODE[$1]}.${POD_HOST[$1]}"; }
ip6() { echo "2001:db8:42:${POD_NODE[$1]}::${POD_HOST[$1]}"; }

cleanup_pods() {
	local p
	for p in "${PODS[@]}"; do
		ip netns pids "$(pod_ns "$p")" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$(pod_ns "$p")" 2>/dev/null || true
	done
}
trap 'cleanup_pods; cleanup' EXIT

[ -x "$NPDRIVER" ] || fail "$NPDRIVER not built"
command -v nft >/dev/null || fail "nft not installed"
setup_topology
for n in "${NODES[@]}"; do
	ns=$(ns_of "$n")
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	# what flannel's iptables mode requires; both families for the table to see bridged pods
	ip netns exec "$ns" sysctl -qw net.bridge.bridge-nf-call-iptables=1 \
		net.bridge.bridge-nf-call-ip6tables=1
	ip -n "$ns" addr del "198.18.$n.1/32" dev lo
	ip -n "$ns" addr del "2001:db8:42:$n::1/128" dev lo
	ip -n "$ns" link add cni0 type bridge
	ip -n "$ns" link set cni0 up
	ip -n "$ns" addr add "198.18.$n.1/24" dev cni0
	ip -n "$ns" addr add "2001:db8:42:$n::1/64" dev cni0 nodad
	for m in "${NODES[@]}"; do
		[ "$m" = "$n" ] && continue
		ip -n "$ns" route add "198.18.$m.0/24" via "203.0.113.$m" dev eth0
		ip -n "$ns" -6 route add "2001:db8:42:$m::/64" via "2001:db8:1::$m" dev eth0
	done
done

cat >"$TMP/srv.py" <<'EOF'
import selectors, socket, sys
sel = selectors.DefaultSelector()
for fam in (socket.AF_INET, socket.AF_INET6):
    for port in (80, 81):
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        t.bind(("", port)); t.listen(64); sel.register(t, selectors.EVENT_READ, "tcp")
        u = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        u.bind(("", port)); sel.register(u, selectors.EVENT_READ, "udp")
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if key.data == "tcp":
            c, _ = s.accept(); c.sendall(b"hi\n"); c.close()
        else:
            data, addr = s.recvfrom(64); s.sendto(data, addr)
EOF
cat >"$TMP/cli.py" <<'EOF'
import socket, sys
proto, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
try:
    if proto == "tcp":
        s = socket.create_connection((host, port), timeout=1)
        ok = s.recv(3) == b"hi\n"
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(1)
        s.sendto(b"ping", (host, port)); ok = s.recvfrom(64)[0] == b"ping"
except OSError:
    ok = False
sys.exit(0 if ok else 1)
EOF

for p in "${PODS[@]}"; do
	pns=$(pod_ns "$p")
	n=${POD_NODE[$p]}
	ip netns add "$pns"
	ip -n "$(ns_of "$n")" link add "v$p" type veth peer name eth0 netns "$pns"
	ip -n "$(ns_of "$n")" link set "v$p" master cni0 up
	ip -n "$pns" link set lo up
	ip -n "$pns" link set eth0 up
	ip -n "$pns" addr add "$(ip4 "$p")/24" dev eth0
	ip -n "$pns" addr add "$(ip6 "$p")/64" dev eth0 nodad
	ip -n "$pns" route add default via "198.18.$n.1"
	ip -n "$pns" -6 route add default via "2001:db8:42:$n::1"
	ip netns exec "$pns" python3 "$TMP/srv.py" >"$TMP/srv-$p" 2>&1 &
	BG_PIDS+=($!)
done
for p in "${PODS[@]}"; do
	wait_for 10 grep -q ready "$TMP/srv-$p" || fail "server in $p did not start"
done

# can SRC PROTO DST PORT [6]: a connection from pod SRC to pod DST succeeds.
can() {
	local dst
	if [ "${5:-}" = 6 ]; then dst=$(ip6 "$3"); else dst=$(ip4 "$3"); fi
	ip netns exec "$(pod_ns "$1")" python3 "$TMP/cli.py" "$2" "$dst" "$4"
}
expect() { # expect yes|no SRC PROTO DST PORT [6]
	local want=$1
	shift
	if can "$@"; then
		[ "$want" = yes ] || fail "$STEP: $1 -> $3 $2/$4${5:+ (IPv6)} allowed, should be blocked"
	else
		[ "$want" = no ] || fail "$STEP: $1 -> $3 $2/$4${5:+ (IPv6)} blocked, should be allowed"
	fi
}

# Objects: namespaces, pods (labels may be overridden), then policies.
LABEL_C='"pod":"c"'
objects() {
	local f=$TMP/objects.json p ns name first=1
	{
		echo '{"kind":"List","items":['
		echo '{"kind":"Namespace","metadata":{"name":"x","labels":{"kubernetes.io/metadata.name":"x"}}},'
		echo '{"kind":"Namespace","metadata":{"name":"y","labels":{"kubernetes.io/metadata.name":"y","team":"blue"}}}'
		for p in "${PODS[@]}"; do
			ns=${p%%-*}
			name=${p#*-}
			labels="\"pod\":\"$name\""
			[ "$p" = y-c ] && labels=$LABEL_C
			printf ',{"kind":"Pod","metadata":{"namespace":"%s","name":"%s","labels":{%s}},' "$ns" "$name" "$labels"
			printf '"spec":{"nodeName":"n%s","containers":[{"name":"c","ports":[' "${POD_NODE[$p]}"
			printf '{"name":"serve-80-tcp","containerPort":80,"protocol":"TCP"},'
			printf '{"name":"serve-81-tcp","containerPort":81,"protocol":"TCP"},'
			printf '{"name":"serve-80-udp","containerPort":80,"protocol":"UDP"},'
			printf '{"name":"serve-81-udp","containerPort":81,"protocol":"UDP"}]}]},'
			printf '"status":{"phase":"Running","podIPs":[{"ip":"%s"},{"ip":"%s"}]}}\n' "$(ip4 "$p")" "$(ip6 "$p")"
		done
		for p in "$@"; do
			echo ",$p"
		done
		echo ']}'
	} >"$f"
}

# apply: every node programs its local pods; prints n1's command count.
apply() {
	local n out
	for n in "${NODES[@]}"; do
		out=$(in_n "$n" "$NPDRIVER" --node "n$n" "$TMP/objects.json") || fail "$STEP: driver on n$n"
		[ "$n" = 1 ] && N1_COMMANDS=$(field " $out" commands)
	done
	true
}

pol() { # pol NS NAME SPEC
	echo "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"$1\",\"name\":\"$2\"},\"spec\":$3}"
}

STEP="no policy"
objects
apply
expect yes x-b tcp x-a 80
expect yes y-c tcp x-a 80
expect yes x-a udp y-c 81
expect yes x-b tcp x-a 80 6
ok "$STEP: pods reach each other on one node and across nodes (v4, v6)"

STEP="deny ingress to x/a"
DENY_A=$(pol x deny-a '{"podSelector":{"matchLabels":{"pod":"a"}},"policyTypes":["Ingress"]}')
objects "$DENY_A"
apply
expect no x-b tcp x-a 80
expect no y-c tcp x-a 80
expect no x-b udp x-a 81
expect no x-b tcp x-a 80 6
expect yes x-a tcp x-b 80   # a's egress is not isolated, replies pass by conntrack
expect yes x-a tcp y-c 81
in_n 1 python3 "$TMP/cli.py" tcp "$(ip4 x-a)" 80 || fail "$STEP: the node itself (kubelet probes) is blocked"
ok "$STEP: isolated on one node and across nodes; the node and replies still pass"

STEP="restart"
apply
[ "$N1_COMMANDS" = 0 ] || fail "$STEP: an unchanged table got $N1_COMMANDS commands"
ok "$STEP: a second run with the same objects changes nothing"

STEP="named port from pod=b"
ALLOW_B=$(pol x allow-b '{"podSelector":{"matchLabels":{"pod":"a"}},"ingress":[{"from":[{"podSelector":{"matchLabels":{"pod":"b"}}}],"ports":[{"port":"serve-80-tcp"}]}],"policyTypes":["Ingress"]}')
objects "$DENY_A" "$ALLOW_B"
apply
expect yes x-b tcp x-a 80
expect yes x-b tcp x-a 80 6
expect no x-b tcp x-a 81
expect no x-b udp x-a 80
expect no y-c tcp x-a 80
ok "$STEP: union of policies, named port resolved on the destination, protocol-aware"

STEP="namespace and pod selector (AND) after relabel"
ALLOW_Y=$(pol x allow-y '{"podSelector":{"matchLabels":{"pod":"a"}},"ingress":[{"from":[{"namespaceSelector":{"matchExpressions":[{"key":"team","operator":"In","values":["blue"]}]},"podSelector":{"matchLabels":{"pod":"b"}}}]}],"policyTypes":["Ingress"]}')
objects "$DENY_A" "$ALLOW_B" "$ALLOW_Y"
apply
expect no y-c tcp x-a 80
LABEL_C='"pod":"b"'
objects "$DENY_A" "$ALLOW_B" "$ALLOW_Y"
apply
[ "$N1_COMMANDS" -le 2 ] || fail "$STEP: a label change took $N1_COMMANDS commands on n1"
expect yes y-c tcp x-a 80
expect yes y-c udp x-a 81
expect yes y-c tcp x-a 81 6
ok "$STEP: a pod's label change is a set element change ($N1_COMMANDS commands)"
LABEL_C='"pod":"c"'

STEP="egress of the client"
DENY_EG=$(pol x deny-eg-b '{"podSelector":{"matchLabels":{"pod":"b"}},"egress":[{"to":[{"ipBlock":{"cidr":"198.18.0.0/16","except":["198.18.1.2/32"]}}],"ports":[{"protocol":"UDP","port":80,"endPort":81}]}],"policyTypes":["Egress"]}')
objects "$DENY_A" "$ALLOW_B" "$DENY_EG"
apply
expect no x-b tcp x-a 80   # a's ingress allows it, b's egress does not
expect no x-b udp x-a 80   # except clause
expect yes x-b udp y-c 81  # endPort range, ipBlock on a pod address across nodes
expect no x-b tcp y-c 80
expect no x-b udp y-c 81 6 # the ipBlock is IPv4 only
expect yes x-a tcp x-b 80  # ingress to b is not isolated; b's replies pass
ok "$STEP: both sides must allow; ipBlock with except, endPort"

STEP="bad policy"
BAD=$(pol y bad '{"podSelector":{},"ingress":[{"ports":[{"protocol":"ICMP"}]}],"policyTypes":["Ingress"]}')
objects "$BAD"
apply
expect no x-a tcp y-c 80
expect yes y-c tcp x-a 80
ok "$STEP: a policy the engine does not understand isolates its pods (fail closed)"

STEP="policies deleted"
objects
apply
expect yes x-b tcp x-a 80
expect yes x-a tcp y-c 80
expect yes x-b udp x-a 81 6
left=$(in_n 1 nft list table inet flannel-netpol | grep -c 'chain [pc]' || true)
[ "$left" = 0 ] || fail "$STEP: $left policy chains left"
ok "$STEP: everything reachable again, no chain left behind"

for n in "${NODES[@]}"; do
	in_n "$n" "$NPDRIVER" --remove || fail "removing the table on n$n"
	! in_n "$n" nft list table inet flannel-netpol >/dev/null 2>&1 || fail "table still there on n$n"
done
ok "table removed"
