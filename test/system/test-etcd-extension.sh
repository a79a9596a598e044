#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The extension backend without Kubernetes: two real flanneld against a
# real etcd, in a private network namespace (unshare -n) with one interface
# (a veth) per agent for its public IP. Each command is a recorder script:
# node 1's PreStartupCommand output is stored as BackendData (a JSON string)
# in its etcd lease value, node 2 runs SubnetAddCommand for it with its
# SUBNET, PUBLIC_IP and that data on stdin, and SubnetRemoveCommand once
# node 1's key is deleted.
set -euo pipefail
source "$(dirname "$0")/etcd-lib.sh"
etcd_lib_enter_netns "$@"

FLANNELD=$BUILD_DIR/cmd/flanneld
REC=$T/rec.sh
cat >"$REC" <<EOF
#!/bin/sh
kind=\$1 node=\$2
in=\$(cat)
echo "\$kind|\${SUBNET-}|\${PUBLIC_IP-}|\$in" >>"$T/rec-\$node.log"
[ "\$kind" = pre ] && echo "data of \$node"
exit 0
EOF
chmod +x "$REC"

start_etcd
for n in 1 2; do
	ip link add "d$n" type veth peer name "d$n-peer"
	ip addr add "203.0.113.$n/24" dev "d$n"
	ip link set "d$n-peer" up
	ip link set "d$n" up
done
ectl put /coreos.com/network/config "{\"Network\": \"198.18.0.0/16\", \"Backend\": {
  \"Type\": \"extension\", \"PreStartupCommand\": \"$REC pre \$NODE\",
  \"SubnetAddCommand\": \"$REC add \$NODE\", \"SubnetRemoveCommand\": \"$REC remove \$NODE\"}}" >/dev/null

start_flanneld() {
	local n=$1
	env NODE="n$n" "$FLANNELD" --etcd-endpoints "$EP" --iface "d$n" \
		--subnet-file "$T/n$n.env" >>"$T/n$n.out" 2>&1 &
	PIDS[n$n]=$!
}
start_flanneld 1
wait_for "$T/n1.env" '^FLANNEL_SUBNET='
start_flanneld 2
wait_for "$T/n2.env" '^FLANNEL_SUBNET='

sub1=$(sed -n 's/^FLANNEL_SUBNET=\(.*\)\.1\/\(.*\)/\1.0\/\2/p' "$T/n1.env")
key1=$(ectl get --prefix --keys-only /coreos.com/network/subnets/ | grep "/${sub1%/*}-")
value=$(ectl get --print-value-only "$key1")
python3 -c 'import json, sys; v = json.loads(sys.argv[1]); sys.exit(not (v["BackendType"] == "extension" and v["BackendData"] == "data of n1"))' "$value" ||
	fail "node 1's etcd value: $value"
echo "ok: PreStartupCommand's output is node 1's BackendData in etcd: $value"

wait_for "$T/rec-n2.log" "^add\|$sub1\|203\.0\.113\.1\|data of n1$"
wait_for "$T/rec-n1.log" "^add\|198\.18\.[0-9]+\.0/24\|203\.0\.113\.2\|data of n2$"
echo "ok: each node ran SubnetAddCommand for the other with its lease and data"

stop_agent n1
ectl del "$key1" >/dev/null
wait_for "$T/rec-n2.log" "^remove\|$sub1\|203\.0\.113\.1\|data of n1$"
echo "ok: node 1's key deleted: SubnetRemoveCommand on node 2 with its lease and data"
