#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The DaemonSet of manifests/kube-flannel.yml, run as the manifest says, from
# the built image, on a 2-node cluster in network namespaces against the test
# API server (test/system/cluster-lib.sh). test/image/kubelet-lite.py plays
# the kubelet and its runtime with podman: the init containers install the
# CNI plugin and conflist into each node's "host" directories, the agent
# container runs with exactly the spec's command, args, env (downward API),
# capabilities, read-only root, volumes and service account, in the node's
# network namespace (hostNetwork). Then the agent must answer the manifest's
# readiness and liveness probes, and pods wired by the installed plugin from
# the installed conflist must reach each other across nodes.
#
# The cluster configuration is the test's: the API server's address, the
# ClusterRole's rules given to the service account's token, net-conf.json's
# Network replaced by the test network, each node's /opt/cni/bin holding
# Debian's reference plugins (the manifest's prerequisite). Whatever the
# agent needs that the spec does not grant is fixed in the manifest or the
# code, never here.
#
# Env: FLANNEL_IMAGE (default: the manifest's image; test/image/build makes it),
# FLANNEL_MANIFEST (default: manifests/kube-flannel.yml) to try a changed manifest.
set -euo pipefail
SRC_DIR=${SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SRC_DIR/build}
P=img-pods-$$
# shellcheck source=test/system/cluster-lib.sh
. "$SRC_DIR/test/system/cluster-lib.sh"
# shellcheck source=test/image/podman-lib.sh
. "$SRC_DIR/test/image/podman-lib.sh"

MANIFEST=${FLANNEL_MANIFEST:-$SRC_DIR/manifests/kube-flannel.yml}
KL=(python3 "$SRC_DIR/test/image/kubelet-lite.py")
IMAGE=${FLANNEL_IMAGE:-$("${KL[@]}" image "$MANIFEST")}
NODES=2
AGENT=kube-flannel
REFERENCE_PLUGINS=(bridge host-local portmap loopback)

cleanup() {
	local rc=$? c n
	if [ $rc -ne 0 ] && [ -d "$WORK" ]; then
		for n in $(seq "$NODES"); do
			[ -s "$WORK/n$n/init.log" ] && sed "s/^/node-$n init: /" "$WORK/n$n/init.log" >&2
			"${PODMAN[@]}" logs "$P-n$n-$AGENT" 2>&1 | tail -n 30 | sed "s/^/node-$n agent: /" >&2 || true
		done
	fi
	for c in $("${PODMAN[@]}" ps -a --format '{{.Names}}' | grep "^$P-" || true); do
		"${PODMAN[@]}" rm -f -t 0 "$c" >/dev/null 2>&1 || true
	done
	cluster_cleanup
}
trap cleanup EXIT

"${PODMAN[@]}" image exists "$IMAGE" || fail "image $IMAGE not built (test/image/build $IMAGE)"
for p in "${REFERENCE_PLUGINS[@]}"; do
	[ -x "$DEBIAN_CNI_DIR/$p" ] || fail "$DEBIAN_CNI_DIR/$p missing (containernetworking-plugins)"
done

cluster_underlay
kctl set_verbs user=flannel "verbs=$("${KL[@]}" rbac "$MANIFEST")" >/dev/null
"${KL[@]}" configmaps "$MANIFEST" "$WORK/configmaps" --network "$NETWORK"

# host_root N: node N's filesystem, as far as the pod's hostPath volumes and
# the container runtime's CNI directories go.
host_root() { echo "$WORK/n$1/host"; }

for n in $(seq "$NODES"); do
	cluster_node "$n"
	root=$(host_root "$n")
	mkdir -p "$root/opt/cni/bin"
	for p in "${REFERENCE_PLUGINS[@]}"; do cp "$DEBIAN_CNI_DIR/$p" "$root/opt/cni/bin/"; done
	cp "$STATE/ca.crt" "$WORK/n$n/sa/ca.crt"
	cp "$STATE/token-flannel" "$WORK/n$n/sa/token"
	"${KL[@]}" run-pod "$MANIFEST" --node "node-$n" --node-ip "203.0.113.$n" \
		--netns "$(ns_of "$n")" --host-root "$root" --configmaps "$WORK/configmaps" \
		--sa-dir "$WORK/n$n/sa" --api "$API_IP:6443" --prefix "$P-n$n" --image "$IMAGE" \
		"${PODMAN_GLOBAL[@]/#/--podman-arg=}" "${PODMAN_RUN[@]/#/--run-arg=}" \
		>"$WORK/n$n/containers" 2>"$WORK/n$n/init.log" ||
		fail "pod on node $n: $(tail -n 5 "$WORK/n$n/init.log")"
done
ok "init containers ran to completion and the agent started on $NODES nodes"

# What the init container installed on each node's host.
for n in $(seq "$NODES"); do
	root=$(host_root "$n")
	plugin=$root/opt/cni/bin/flannel
	[ -x "$plugin" ] || fail "node $n: no CNI plugin installed in /opt/cni/bin"
	out=$(echo '{}' | env -i CNI_COMMAND=VERSION "$plugin") || fail "node $n: installed plugin: VERSION"
	grep -q '"supportedVersions"' <<<"$out" || fail "node $n: installed plugin VERSION: $out"
	python3 - "$root/etc/cni/net.d/10-flannel.conflist" "$WORK/configmaps/kube-flannel-cfg/cni-conf.json" <<-'EOF' ||
		import json, sys
		installed, configured = (json.load(open(p)) for p in sys.argv[1:])
		sys.exit(installed != configured)
	EOF
		fail "node $n: /etc/cni/net.d/10-flannel.conflist is not the ConfigMap's cni-conf.json"
done
ok "plugin and conflist installed on every node's host"

probe() {
	"${KL[@]}" probe "$MANIFEST" --netns "$(ns_of "$1")" --node-ip "203.0.113.$1" \
		--container "$AGENT" --kind "$2"
}
# ready N: the readiness probe succeeds; an agent that exited fails at once
# (the API server is up before any agent starts: nothing to restart for).
ready() {
	local state
	probe "$1" readiness >/dev/null 2>&1 && return 0
	state=$("${PODMAN[@]}" inspect --format '{{.State.Status}} (exit code {{.State.ExitCode}})' \
		"$P-n$1-$AGENT")
	case $state in
	running*) return 1 ;;
	*) fail "node $1: the agent container is $state" ;;
	esac
}
for n in $(seq "$NODES"); do
	deadline=$((SECONDS + 120))
	until ready "$n"; do
		[ $SECONDS -lt $deadline ] || fail "timed out after 120s waiting for node $n's readiness probe"
		sleep 0.2
	done
	probe "$n" liveness >/dev/null || fail "node $n: liveness probe: $(probe "$n" liveness)"
	grep -qx "FLANNEL_SUBNET=198.18.$n.1/24" "$(host_root "$n")/run/flannel/subnet.env" ||
		fail "node $n: /run/flannel/subnet.env on the host: $(cat "$(host_root "$n")/run/flannel/subnet.env")"
done
ok "agents ready through the manifest's probe port, subnet.env on the host"

# The agent runs as the spec says: the capabilities (today NET_ADMIN and
# NET_RAW, 0000000000003000), the env.
want_caps=$("${KL[@]}" capmask "$MANIFEST" "$AGENT")
for n in $(seq "$NODES"); do
	pid=$("${PODMAN[@]}" inspect --format '{{.State.Pid}}' "$P-n$n-$AGENT")
	caps=$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status")
	[ "$caps" = "$want_caps" ] || fail "node $n: agent's effective capabilities $caps, spec $want_caps"
	tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "NODE_NAME=node-$n" ||
		fail "node $n: agent has no NODE_NAME=node-$n"
	tr '\0' '\n' <"/proc/$pid/environ" | grep -q "^POD_NAME=kube-flannel-ds-" ||
		fail "node $n: agent has no POD_NAME"
	tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "POD_NAMESPACE=kube-flannel" ||
		fail "node $n: agent has no POD_NAMESPACE=kube-flannel"
done
ok "agents run with the spec's capabilities ($want_caps) only, NODE_NAME, POD_NAME and POD_NAMESPACE from the downward API"

for n in $(seq "$NODES"); do
	pns=$(pod_ns "$n" 1)
	ip netns add "$pns"
	"${KL[@]}" cni-add --netns "$(ns_of "$n")" --host-root "$(host_root "$n")" \
		--pod-netns "/run/netns/$pns" --id "$pns" >"$WORK/n$n/pod-1.json" ||
		fail "CNI ADD of a pod on node $n through the installed conflist"
	ip=$(pod_ip "$n" 1)
	case $ip in
	198.18.$n.*) ;;
	*) fail "node $n: pod address '$ip' outside the node's podCIDR 198.18.$n.0/24" ;;
	esac
done
ok "pods wired by the installed plugin and conflist"

ping_pods $(seq "$NODES")
ok "pods reach each other across nodes"

# Nothing the spec withholds made the agent fail quietly (an iptables rule, a
# sysctl, a file it could not write): its log has no warning and no error.
for n in $(seq "$NODES"); do
	if out=$("${PODMAN[@]}" logs "$P-n$n-$AGENT" 2>&1 | grep -E '^[EWF][0-9]{4} '); then
		fail "node $n: the agent logged: $out"
	fi
done
ok "agents logged no warning or error"
