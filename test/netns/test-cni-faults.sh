#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The CNI plugin's built-in mode under concurrency and crashes, in a node
# namespace of its own (dual stack, host-local's state in a temp dir):
#   - parallel ADDs: 12 pods at once, half through built-in mode and half
#     through delegate mode (Debian's bridge + host-local, which locks the
#     same `lock` file): 12 distinct addresses per family, every pod
#     reaches the gateway, then 12 parallel DELs leave nothing;
#   - crashes: an ADD killed (SIGKILL, injected by strace) at each of its
#     netlink exchanges (sendmsg: a request or a batch of them), at its
#     reservation (linkat), its hint (pwrite64) and each namespace switch
#     (setns); after each, a DEL (or, every other time, a GC that does not
#     list the pod) leaves no address, veth or state behind, and the pod
#     can be added again.
set -euo pipefail

BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point to the build tree}
PLUGIN=$BUILD_DIR/cmd/flannel

if [ "$(id -u)" -ne 0 ]; then
	echo "FAIL: needs root (CAP_NET_ADMIN) to create network namespaces" >&2
	exit 1
fi
command -v strace >/dev/null || { echo "FAIL: strace is not installed (test/install-deps.sh)" >&2; exit 1; }

P=cnif-$$
node=$P-node
tmp=$(mktemp -d /tmp/test-cni-faults.XXXXXX)

cleanup() {
	for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ip netns add "$node"
ip -n "$node" link set lo up
mkdir -p "$tmp/bin"
cp "$PLUGIN" "$tmp/bin/flannel"
ln -s /usr/lib/cni/bridge "$tmp/bin/bridge"
ln -s /usr/lib/cni/host-local "$tmp/bin/host-local"
cat >"$tmp/subnet.env" <<ENV
FLANNEL_NETWORK=198.18.0.0/16
FLANNEL_SUBNET=198.18.6.1/24
FLANNEL_IPV6_NETWORK=2001:db8:42::/56
FLANNEL_IPV6_SUBNET=2001:db8:42:6::1/64
FLANNEL_MTU=1450
FLANNEL_IPMASQ=true
ENV
# 1.0.0: Debian's plugins speak no 1.1.0; GC needs it.
for mode in builtin delegate gc; do
	version=1.0.0
	[ $mode = gc ] && version=1.1.0
	cat >"$tmp/$mode.json" <<JSON
{"cniVersion":"$version","name":"cbr0","type":"flannel","mode":"${mode/gc/builtin}","subnetFile":"$tmp/subnet.env",
 "dataDir":"$tmp/state","ipam":{"dataDir":"$tmp/ipam"},
 "delegate":{"hairpinMode":true,"isDefaultGateway":true}$([ $mode = gc ] && echo ',"cni.dev/valid-attachments":[]')}
JSON
done
ipam=$tmp/ipam/cbr0

# cni COMMAND ID MODE [wrapper...]: the plugin in the node namespace for pod namespace $P-ID.
cni() {
	local cmd=$1 id=$2 mode=$3
	shift 3
	ip netns exec "$node" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND="$cmd" \
		CNI_CONTAINERID="$id" CNI_NETNS="/var/run/netns/$P-$id" CNI_IFNAME=eth0 \
		CNI_PATH="$tmp/bin" "$@" "$tmp/bin/flannel" <"$tmp/$mode.json"
}

reservations() { ls "$ipam" 2>/dev/null | grep -v -e '^lock$' -e '^last_reserved_ip\.' || true; }

# nothing_left ID: no reservation, host veth, pod interface or state of any pod.
nothing_left() {
	local what=$1
	[ -z "$(reservations)" ] || fail "$what: addresses left: $(reservations)"
	[ -z "$(ip -n "$node" -o link show type veth)" ] ||
		fail "$what: veths left: $(ip -n "$node" -o link show type veth)"
	[ -z "$(ls "$tmp/state" 2>/dev/null)" ] || fail "$what: state left: $(ls "$tmp/state")"
}

echo "== 12 parallel ADDs, built-in and delegate mode mixed"
pids=()
for i in $(seq 1 12); do
	ip netns add "$P-p$i"
	mode=builtin
	[ $((i % 2)) = 0 ] && mode=delegate
	cni ADD "p$i" "$mode" >"$tmp/add-$i.json" 2>"$tmp/add-$i.err" &
	pids+=($!)
done
for i in $(seq 1 12); do
	wait "${pids[$((i - 1))]}" || fail "ADD p$i: $(cat "$tmp/add-$i.json" "$tmp/add-$i.err")"
done
[ "$(reservations | wc -l)" = 24 ] || fail "$(reservations | wc -l) reservations for 12 dual-stack pods"
for fam in 4 6; do
	addrs=$(for i in $(seq 1 12); do
		ip -n "$P-p$i" -"$fam" -o addr show dev eth0 scope global | awk '{print $4}'
	done | sort)
	[ "$(uniq <<<"$addrs" | wc -l)" = 12 ] || fail "IPv$fam addresses not distinct: $addrs"
done
for i in $(seq 1 12); do
	ip netns exec "$P-p$i" ping -c 1 -W 2 198.18.6.1 >/dev/null || fail "pod p$i cannot reach the gateway"
done
pids=()
for i in $(seq 1 12); do
	cni DEL "p$i" builtin >/dev/null &
	pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || fail "a parallel DEL failed"; done
nothing_left "after 12 parallel DELs"
echo "ok: 12 distinct pods, all deleted"

echo "== crashes"
# How many times a normal ADD makes each system call, to crash at each one.
ip netns add "$P-c"
counts=$(cni ADD c builtin strace -f -c -U name,calls -e trace=sendmsg,linkat,pwrite64,setns \
	2>&1 >/dev/null | awk '$1 ~ /^(sendmsg|linkat|pwrite64|setns)$/ {print $1 "=" $2}')
cni DEL c builtin >/dev/null || fail "DEL c"
nothing_left "after a normal ADD and DEL"
echo "calls of one ADD: $(echo $counts)"
[ "$(wc -w <<<"$counts")" = 4 ] || fail "an ADD no longer makes each of sendmsg linkat pwrite64 setns"
crashes=0
for entry in $counts; do
	call=${entry%=*}
	for n in $(seq 1 "${entry#*=}"); do
		if cni ADD c builtin strace -o /dev/null -e inject="$call":signal=KILL:when="$n" \
			>"$tmp/crash.out" 2>&1; then
			fail "ADD survived a crash at $call #$n"
		fi
		crashes=$((crashes + 1))
		if [ $((crashes % 2)) = 0 ]; then
			# GC without the pod among the valid attachments.
			ip netns exec "$node" env -i CNI_COMMAND=GC CNI_PATH="$tmp/bin" "$tmp/bin/flannel" \
				<"$tmp/gc.json" >"$tmp/gc.out" || fail "GC after $call #$n: $(cat "$tmp/gc.out")"
			how=GC
		else
			cni DEL c builtin >"$tmp/del.out" || fail "DEL after $call #$n: $(cat "$tmp/del.out")"
			how=DEL
		fi
		nothing_left "crash at $call #$n, then $how"
		! ip -n "$P-c" link show eth0 >/dev/null 2>&1 || fail "crash at $call #$n, then $how: eth0 left in the pod"
	done
done
cni ADD c builtin >"$tmp/c.json" || fail "ADD after the crashes: $(cat "$tmp/c.json")"
ip netns exec "$P-c" ping -c 1 -W 2 198.18.6.1 >/dev/null || fail "pod c cannot reach the gateway"
cni DEL c builtin >/dev/null
nothing_left "the end"
echo "ok: $crashes crashes, each cleaned up"
echo "PASS"
