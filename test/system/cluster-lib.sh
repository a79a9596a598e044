# SPDX-License-Identifier: Apache-2.0
# A small cluster in network namespaces, shared by the system tests and the
# demo: the test API server and N nodes, each running the real flanneld with
# the kube subnet manager, in-cluster style (token + CA files, NODE_NAME).
# Sourced after setting P (a unique prefix, e.g. "sys-basic-$$").
#
#                        [ $P-ul ]  bridge br0, 203.0.113.254/24, 2001:db8:1::fe/64
#                        test kube-apiserver on 203.0.113.254:6443
#                 /             |              \
#           veth eth0       veth eth0       veth eth0
#         [ $P-n1 ]        [ $P-n2 ]        [ $P-n3 ]      203.0.113.N, 2001:db8:1::N
#          flanneld         flanneld         flanneld
#          node-1           node-2           node-3        podCIDR 198.18.N.0/24
#           |  cni0 (bridge, by the CNI plugin)            (+ 2001:db8:42:N::/64)
#         [ $P-n1-p1 ] ... pods                              pod addresses from host-local
#
# CNI_MODE=builtin wires the pods with the plugin's built-in mode and a
# CNI_PATH without any other plugin; the default (delegate) runs Debian's
# bridge and host-local from /usr/lib/cni, as upstream's plugin does.
#
# Nothing is added to the root namespace. cluster_cleanup (trap) removes
# every namespace, process and file this created.

: "${BUILD_DIR:?BUILD_DIR must be set}"
: "${SRC_DIR:?SRC_DIR must be set}"
: "${P:?P (a unique prefix) must be set}"

FLANNELD=$BUILD_DIR/cmd/flanneld
CNI_PLUGIN=$BUILD_DIR/cmd/flannel
APISERVER=$SRC_DIR/test/apiserver/kube-apiserver.py
KCTL=$SRC_DIR/test/apiserver/kubectl-lite.py
DEBIAN_CNI_DIR=/usr/lib/cni
CNI_MODE=${CNI_MODE:-delegate}
case $CNI_MODE in delegate | builtin) ;; *) echo "FAIL: CNI_MODE=$CNI_MODE" >&2; exit 1 ;; esac

NS_UL=$P-ul
API_IP=203.0.113.254
WORK=$(mktemp -d "/tmp/$P.XXXXXX")
STATE=$WORK/apiserver
CLUSTER_PIDS=()
declare -A FLANNELD_PID
# NODE_MNTNS[N]: pid of a process whose mount namespace node N's flanneld runs
# in (node_mount_ns); FLANNELD_ENV: extra "K=V" words for every flanneld.
declare -A NODE_MNTNS
FLANNELD_ENV=${FLANNELD_ENV:-}

NETWORK=${NETWORK:-198.18.0.0/16}
IPV6_NETWORK=${IPV6_NETWORK:-2001:db8:42::/56}

ns_of() { echo "$P-n$1"; }
pod_ns() { echo "$P-n$1-p$2"; }
in_node() {
	local n=$1
	shift
	ip netns exec "$(ns_of "$n")" "$@"
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() { echo "ok: $*"; }

kctl() { python3 "$KCTL" --state-dir "$STATE" "$@"; }

cluster_cleanup() {
	local pid ns
	for pid in "${CLUSTER_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${CLUSTER_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$WORK"
	if [ "${CREATED_RUN_WG:-0}" = 1 ]; then
		rmdir /run/wireguard 2>/dev/null || true
	fi
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.1 s.
wait_for() {
	local secs=$1 what=$2 deadline
	shift 2
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt "$deadline" ] || fail "timed out after ${secs}s waiting for $what"
		sleep 0.1
	done
}

# cluster_underlay: the bridge namespace with the API server.
cluster_underlay() {
	[ "$(id -u)" = 0 ] || fail "needs root to create network namespaces"
	[ -x "$FLANNELD" ] || fail "$FLANNELD not built"
	ip netns add "$NS_UL"
	ip -n "$NS_UL" link set lo up
	# A fixed MAC: a bridge otherwise takes its lowest port MAC, which changes as
	# nodes join and leaves stale ARP entries behind.
	ip -n "$NS_UL" link add br0 address 02:00:00:00:00:fe type bridge
	ip -n "$NS_UL" link set br0 up
	ip -n "$NS_UL" addr add "$API_IP/24" dev br0
	ip -n "$NS_UL" addr add 2001:db8:1::fe/64 dev br0 nodad
	mkdir -p "$STATE"
	ip netns exec "$NS_UL" python3 "$APISERVER" --state-dir "$STATE" \
		--listen "$API_IP:6443" >"$WORK/apiserver.log" 2>&1 &
	CLUSTER_PIDS+=($!)
	wait_for 30 "the API server" grep -q '^READY' "$WORK/apiserver.log"
}

# cluster_node N: namespace, veth on the bridge, Node object with its podCIDR(s).
cluster_node() {
	local n=$1 ns
	ns=$(ns_of "$n")
	ip netns add "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1
	ip -n "$NS_UL" link add "v$n" type veth peer name eth0 netns "$ns"
	ip -n "$NS_UL" link set "v$n" master br0 up
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	ip -n "$ns" addr add "203.0.113.$n/24" dev eth0
	ip -n "$ns" addr add "2001:db8:1::$n/64" dev eth0 nodad
	ip -n "$ns" route add default via "$API_IP" dev eth0
	ip -n "$ns" -6 route add default via 2001:db8:1::fe dev eth0
	mkdir -p "$WORK/n$n/sa" "$WORK/n$n/run" "$WORK/n$n/cni"
	if [ "${DUAL_STACK:-0}" = 1 ]; then
		kctl add-node "name=node-$n" "podCIDRs=[\"198.18.$n.0/24\",\"2001:db8:42:$n::/64\"]" \
			"internalIP=203.0.113.$n" >/dev/null
	else
		kctl add-node "name=node-$n" "podCIDR=198.18.$n.0/24" "internalIP=203.0.113.$n" >/dev/null
	fi
}

# cluster_netconf: net-conf.json from $BACKEND (vxlan, host-gw, or a JSON object).
cluster_netconf() {
	local backend=${BACKEND:-vxlan} v6=""
	case $backend in
	\{*) ;;
	*) backend="{\"Type\": \"$backend\"}" ;;
	esac
	if [ "${DUAL_STACK:-0}" = 1 ]; then
		v6=", \"EnableIPv6\": true, \"IPv6Network\": \"$IPV6_NETWORK\""
	fi
	cat >"$WORK/net-conf.json" <<-EOF
		{ "Network": "$NETWORK"$v6, "EnableNFTables": ${NFTABLES:-false}, "Backend": $backend }
	EOF
}

# start_flanneld N [extra flags...]: in-cluster style, like the DaemonSet.
start_flanneld() {
	local n=$1
	shift
	cp "$STATE/ca.crt" "$WORK/n$n/sa/ca.crt"
	cp "$STATE/token-flannel" "$WORK/n$n/sa/token"
	local pre=()
	[ -n "${NODE_MNTNS[$n]:-}" ] && pre=(nsenter -t "${NODE_MNTNS[$n]}" -m)
	# Not through in_node: $! must be flanneld itself, not a subshell (nsenter,
	# ip netns exec and env all exec the next program).
	# shellcheck disable=SC2086
	"${pre[@]}" ip netns exec "$(ns_of "$n")" env -i PATH="$PATH" NODE_NAME="node-$n" $FLANNELD_ENV \
		KUBERNETES_SERVICE_HOST="$API_IP" KUBERNETES_SERVICE_PORT=6443 \
		FLANNEL_SA_DIR="$WORK/n$n/sa" \
		"$FLANNELD" --kube-subnet-mgr --ip-masq \
		--net-config-path "$WORK/net-conf.json" \
		--subnet-file "$WORK/n$n/run/subnet.env" \
		--healthz-ip 127.0.0.1 --healthz-port 8081 "$@" \
		>>"$WORK/n$n/flanneld.log" 2>&1 &
	FLANNELD_PID[$n]=$!
	CLUSTER_PIDS+=($!)
}

# node_mount_ns N: a mount namespace of its own for node N, with a private
# tmpfs on /run/wireguard: wireguard-go's UAPI sockets (/var/run/wireguard/
# <dev>.sock) are per mount namespace, and every node's device is flannel-wg.
# A sleeping process holds the namespace, so that a restarted flanneld (and
# in_node_mnt) enter the same one. /run/wireguard is created on the host
# only when missing (and removed again by cluster_cleanup).
node_mount_ns() {
	local n=$1
	if [ ! -d /run/wireguard ]; then
		mkdir /run/wireguard
		CREATED_RUN_WG=1
	fi
	unshare -m --propagation private sh -c \
		'mount -t tmpfs -o mode=0755 flannel-test /run/wireguard && exec sleep 100000' &
	NODE_MNTNS[$n]=$!
	CLUSTER_PIDS+=($!)
	wait_for 5 "mount namespace of node $n" grep -q " /run/wireguard tmpfs" "/proc/$!/mounts"
}

# in_node_mnt N COMMAND...: in node N's network and mount namespaces.
in_node_mnt() {
	local n=$1
	shift
	nsenter -t "${NODE_MNTNS[$n]}" -m ip netns exec "$(ns_of "$n")" "$@"
}

stop_flanneld() {
	local n=$1 pid=${FLANNELD_PID[$1]}
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# http_get N PATH: the agent's health endpoint, from inside the node.
http_get() {
	in_node "$1" python3 -c '
import sys, urllib.request
try:
    r = urllib.request.urlopen("http://127.0.0.1:8081" + sys.argv[1], timeout=5)
    sys.stdout.write(r.read().decode()); sys.exit(0 if r.status == 200 else 1)
except urllib.error.HTTPError as e:
    sys.stdout.write(e.read().decode()); sys.exit(1)
' "$2"
}

node_ready() { http_get "$1" /readyz >/dev/null; }

# add_pod N I: a pod namespace wired by the real flannel CNI plugin (in
# delegate mode with Debian's bridge + host-local), run inside the node's namespace.
add_pod() {
	local n=$1 i=$2 pns out
	pns=$(pod_ns "$n" "$i")
	ip netns add "$pns"
	out=$(cni_exec "$n" ADD "$pns") || fail "CNI ADD of pod $i on node $n: $out"
	echo "$out" >"$WORK/n$n/cni/result-$i.json"
}

del_pod() {
	local n=$1 i=$2
	cni_exec "$n" DEL "$(pod_ns "$n" "$i")" >/dev/null
	ip netns del "$(pod_ns "$n" "$i")"
}

cni_exec() {
	local n=$1 cmd=$2 pns=$3 path=$DEBIAN_CNI_DIR
	if [ "$CNI_MODE" = builtin ]; then
		path=$WORK/cni-bin # no other plugin: built-in mode needs none
		mkdir -p "$path"
	fi
	in_node "$n" env -i PATH="$PATH" CNI_COMMAND="$cmd" CNI_CONTAINERID="$pns" \
		CNI_NETNS="/run/netns/$pns" CNI_IFNAME=eth0 CNI_PATH="$path" \
		"$CNI_PLUGIN" <<-EOF
			{ "cniVersion": "1.0.0", "name": "cbr0", "type": "flannel", "mode": "$CNI_MODE",
			  "subnetFile": "$WORK/n$n/run/subnet.env", "dataDir": "$WORK/n$n/cni/data",
			  "ipam": { "dataDir": "$WORK/n$n/cni/ipam" },
			  "delegate": { "hairpinMode": true, "isDefaultGateway": true } }
		EOF
}

# pod_ip N I [4|6]: the pod's address from inside its namespace.
pod_ip() {
	local fam=${3:-4}
	ip -n "$(pod_ns "$1" "$2")" -"$fam" -o addr show dev eth0 scope global |
		awk '{split($4, a, "/"); print a[1]; exit}'
}

pod_ping() {
	local n=$1 i=$2 dst=$3
	ip netns exec "$(pod_ns "$n" "$i")" ping -c 1 -W 2 "$dst" >/dev/null 2>&1
}

# metric N NAME: the value of the sample NAME (with its labels, if any, e.g.
# 'flannel_kube_api_requests_total{verb="LIST",code="2xx"}') on node N's
# /metrics; 0 when the sample is absent (counters without labels are always there).
metric() {
	local out
	out=$(http_get "$1" /metrics) || fail "GET /metrics on node $1"
	awk -v m="$2" '$1 == m { v = $2 } END { print v == "" ? 0 : v }' <<<"$out"
}

# ping_pods N...: pod 1 of each given node reaches pod 1 of every other given node.
ping_pods() {
	local n m
	for n in "$@"; do for m in "$@"; do
		[ "$n" = "$m" ] && continue
		pod_ping "$n" 1 "$(pod_ip "$m" 1)" || fail "pod on node $n cannot reach pod on node $m"
	done; done
}

# log_mark N: remember how long node N's flanneld log is; log_since N prints what came after.
declare -A LOG_MARK
log_mark() { LOG_MARK[$1]=$(wc -l <"$WORK/n$1/flanneld.log"); }
log_since() { tail -n +"$((${LOG_MARK[$1]:-0} + 1))" "$WORK/n$1/flanneld.log"; }
# metric_gt N NAME VALUE: the sample is above VALUE (for wait_for).
metric_gt() { [ "$(metric "$1" "$2")" -gt "$3" ]; }

# cluster_reset: tear the cluster down (cluster_cleanup) and start over with
# a fresh work directory, for tests that run several clusters in turn.
cluster_reset() {
	cluster_cleanup
	CLUSTER_PIDS=()
	FLANNELD_PID=()
	NODE_MNTNS=()
	LOG_MARK=()
	WORK=$(mktemp -d "/tmp/$P.XXXXXX")
	STATE=$WORK/apiserver
}

# output_has REGEX COMMAND...: COMMAND succeeds and a line of its output
# matches the extended REGEX. Use it instead of `COMMAND | grep -q`, which
# under pipefail fails when grep exits before COMMAND has written everything.
output_has() {
	local out
	out=$("${@:2}") || return 1
	grep -Eq -- "$1" <<<"$out"
}
