# SPDX-License-Identifier: Apache-2.0
# The Kubernetes e2e "Netpol" model on a cluster-lib.sh cluster: two nodes running
# the real flanneld, namespaces x, y, z with pods a, b, c each (nine pod network
# namespaces wired by the flannel CNI plugin, spread over both nodes), every pod
# serving TCP and UDP on ports 80 and 81 (netpol-e2e.py serve), and the Pod and
# Namespace objects registered in the test API server with their labels, podIPs and
# named container ports. netpol_run CASE... then runs cases of netpol_cases.py.
# Sourced after setting P; netpol_cluster [flanneld flags...] builds everything.

. "$(dirname "${BASH_SOURCE[0]}")/cluster-lib.sh"

NETPOL_E2E=$SRC_DIR/test/system/netpol-e2e.py

netpol_cluster() {
	local n i=0 ns p node idx
	declare -A count=([1]=0 [2]=0)
	cluster_underlay
	# the ClusterRole of manifests/kube-flannel.yml, with its rules for --network-policy
	kctl set-verbs user=flannel verbs=get/pods,get/nodes,list/nodes,watch/nodes,patch/nodes/status,list/pods,watch/pods,list/namespaces,watch/namespaces,list/networkpolicies,watch/networkpolicies >/dev/null
	cluster_netconf
	for n in 1 2; do cluster_node "$n"; done
	for n in 1 2; do start_flanneld "$n" "$@"; done
	for n in 1 2; do wait_for 30 "node $n ready" node_ready "$n"; done
	echo "{" >"$WORK/pods.json"
	for ns in x y z; do
		for p in a b c; do
			node=$((i % 2 + 1))
			idx=$((++count[$node]))
			add_pod "$node" "$idx"
			ip netns exec "$(pod_ns "$node" "$idx")" python3 "$NETPOL_E2E" serve "$p" \
				>"$WORK/serve-$ns-$p.log" 2>&1 &
			CLUSTER_PIDS+=($!)
			[ "$i" = 0 ] || echo "," >>"$WORK/pods.json"
			printf '"%s/%s": {"netns": "/run/netns/%s", "node": "node-%s", "hostIP": "203.0.113.%s", "ip": "%s"}' \
				"$ns" "$p" "$(pod_ns "$node" "$idx")" "$node" "$node" "$(pod_ip "$node" "$idx")" \
				>>"$WORK/pods.json"
			i=$((i + 1))
		done
	done
	echo "}" >>"$WORK/pods.json"
	for ns in x y z; do
		for p in a b c; do
			wait_for 10 "the servers of $ns/$p" grep -q '^SERVING' "$WORK/serve-$ns-$p.log"
		done
	done
	NETPOL_CREATED=0
}

# netpol_run [--settle S] CASE...: the first call also creates the model's objects.
netpol_run() {
	local create=()
	[ "${NETPOL_CREATED:-0}" = 1 ] && create=(--no-create)
	NETPOL_CREATED=1
	python3 "$NETPOL_E2E" run --state "$STATE" --pods "$WORK/pods.json" "${create[@]}" "$@"
}
