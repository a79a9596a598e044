#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# flanneld --network-policy as an agent (the e2e cases are test-netpol-e2e's):
# two vxlan nodes against the test API server, pods wired by the real CNI
# plugin and registered as Pod objects with the addresses they got. Checks
# that a policy reaches the kernel of the right node and blocks/allows real
# TCP connections across nodes and on one node, that a client's relabel
# opens the way within seconds, what `flanneld status` and /metrics say,
# that a restarted agent keeps enforcing and writes nothing when nothing
# changed, and that without the option the table is removed.
set -euo pipefail
P=sys-np-$$
. "$(dirname "$0")/cluster-lib.sh"
trap cluster_cleanup EXIT

cluster_underlay
# the ClusterRole of manifests/kube-flannel.yml, with the rules for --network-policy
kctl set-verbs user=flannel verbs=get/pods,get/nodes,list/nodes,watch/nodes,patch/nodes/status,list/pods,watch/pods,list/namespaces,watch/namespaces,list/networkpolicies,watch/networkpolicies >/dev/null
cluster_netconf
for n in 1 2; do cluster_node "$n"; done
for n in 1 2; do start_flanneld "$n" --network-policy; done
for n in 1 2; do wait_for 30 "node $n ready" node_ready "$n"; done

# pods: a and b on node 1, c on node 2, each serving TCP port 80
cat >"$WORK/srv.py" <<'EOF'
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 80)); s.listen(16); print("ready", flush=True)
while True:
    c, _ = s.accept(); c.sendall(b"hi\n"); c.close()
EOF
declare -A POD=([a]="1 1" [b]="1 2" [c]="2 1")
for name in a b c; do
	read -r n i <<<"${POD[$name]}"
	add_pod "$n" "$i"
	ip netns exec "$(pod_ns "$n" "$i")" python3 "$WORK/srv.py" >"$WORK/srv-$name" 2>&1 &
	CLUSTER_PIDS+=($!)
done
kctl add-namespace name=x >/dev/null
for name in a b c; do
	read -r n i <<<"${POD[$name]}"
	wait_for 10 "server in pod $name" grep -q ready "$WORK/srv-$name"
	kctl add-pod namespace=x name="$name" nodeName="node-$n" labels.pod="$name" \
		podIPs="[\"$(pod_ip "$n" "$i")\"]" \
		ports='[{"name":"http","containerPort":80,"protocol":"TCP"}]' >/dev/null
done

# can FROM TO: a TCP connection from pod FROM to pod TO's port 80 works.
can() {
	local from=$1 to=$2 n i m j
	read -r n i <<<"${POD[$from]}"
	read -r m j <<<"${POD[$to]}"
	ip netns exec "$(pod_ns "$n" "$i")" python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], 80), timeout=1); sys.exit(s.recv(3) != b"hi\n")
except OSError:
    sys.exit(1)' "$(pod_ip "$m" "$j")"
}
cannot() { ! can "$@"; }
status_has() { output_has "$2" http_get "$1" /status; }

wait_for 20 "node 1's status listing x/a" status_has 1 '^x/a ingress=- egress=-$'
can b a || fail "b -> a blocked without any policy"
can c a || fail "c -> a blocked without any policy"
ok "without policies every pod reaches every other"

cat >"$WORK/allow-b.json" <<'EOF'
{"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1",
 "metadata": {"name": "allow-b", "namespace": "x"},
 "spec": {"podSelector": {"matchLabels": {"pod": "a"}},
          "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}],
                       "ports": [{"port": "http"}]}]}}
EOF
kctl apply file="$WORK/allow-b.json" >/dev/null
wait_for 10 "c -> a blocked" cannot c a
can b a || fail "b -> a (same node, allowed by name of port) blocked"
can a c || fail "a -> c blocked: a is isolated for ingress only"
status_has 1 '^x/a ingress=allow-b egress=-$' || fail "node 1's status: $(http_get 1 /status)"
[ "$(metric 1 'flannel_netpol_isolated_pods{direction="ingress"}')" = 1 ] ||
	fail "node 1 does not count one pod isolated for ingress"
[ "$(metric 2 'flannel_netpol_isolated_pods{direction="ingress"}')" = 0 ] ||
	fail "node 2 isolates a pod it does not run"
ok "a policy reaches the node of the pod it selects: c -> a blocked across nodes, b -> a allowed"

kctl label resource=pods namespace=x name=c labels.pod=b >/dev/null
wait_for 10 "c -> a allowed after c's relabel" can c a
ok "a client's relabel opens the way"

# Restart: the table stays while flanneld is down, a change made meanwhile is
# caught up, and an agent restarted with nothing changed writes nothing.
kctl label resource=pods namespace=x name=c labels.pod=c >/dev/null
wait_for 10 "c -> a blocked again" cannot c a
stop_flanneld 1
in_node 1 nft list table inet flannel-netpol >/dev/null || fail "the table went away with flanneld"
cannot c a || fail "c -> a allowed while node 1's agent is down: enforcement must stay"
kctl label resource=pods namespace=x name=c labels.pod=b >/dev/null
start_flanneld 1 --network-policy
wait_for 30 "c -> a allowed after the restart (a change made while down)" can c a
ok "enforcement stays while the agent is down; the restarted agent catches up"

wait_for 20 "node 1's agent synced" status_has 1 '^x/a ingress=allow-b egress=-$'
before=$(in_node 1 nft list table inet flannel-netpol)
stop_flanneld 1
start_flanneld 1 --network-policy
wait_for 30 "node 1 ready again" node_ready 1
wait_for 20 "node 1's agent synced again" status_has 1 '^x/a ingress=allow-b egress=-$'
[ "$(metric 1 flannel_netpol_rule_updates_total)" = 0 ] ||
	fail "the restarted agent rewrote the unchanged table"
[ "$(in_node 1 nft list table inet flannel-netpol)" = "$before" ] || fail "the table changed"
can c a || fail "c -> a blocked after the restart"
ok "a restart with nothing changed writes nothing"

# Without --network-policy the table goes.
stop_flanneld 1
start_flanneld 1
wait_for 30 "node 1 ready without --network-policy" node_ready 1
wait_for 10 "the table removed" bash -c "! ip netns exec $(ns_of 1) nft list table inet flannel-netpol"
kctl label resource=pods namespace=x name=c labels.pod=c >/dev/null
can c a || fail "c -> a blocked without --network-policy"
ok "without --network-policy the table is removed"
