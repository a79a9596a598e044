#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The extension backend on the cluster of cluster-lib.sh. Every command is
# one recorder script (rec.sh) that appends its argv, its environment
# (SUBNET, PUBLIC_IP, NETWORK, ...) and its standard input to a per-node
# log; SubnetAddCommand / SubnetRemoveCommand also really add and delete
# the route to the peer's subnet (as host-gw would), so pods reach each
# other: the commands are a working datapath.
#   1. PreStartupCommand's output is published as backend-data (a JSON
#      string, quotes escaped); PostStartupCommand gets NETWORK, SUBNET,
#      PUBLIC_IP; each node runs SubnetAddCommand for each peer with its
#      SUBNET, PUBLIC_IP and its data on stdin; pods ping across nodes;
#   2. a failing SubnetAddCommand is logged once with its exit status and
#      stderr, counted in flannel_peers_refused, shown by flanneld status
#      with the same reason, retried with backoff, and
#      succeeds once the cause is gone; the other nodes are not held up;
#   3. a deleted Node: SubnetRemoveCommand with its old lease on every node;
#   4. a peer whose lease changes: remove of the old lease, then add;
#   5. a restart runs PreStartup, PostStartup and the add of every peer
#      again (the chosen behaviour, as upstream), and no remove;
#   6. bad configuration: a non-string command and a failing
#      PreStartupCommand stop flanneld with the field named.
set -euo pipefail
P=sys-ext-$$
. "$(dirname "$0")/cluster-lib.sh"
trap cluster_cleanup EXIT

A=flannel.alpha.coreos.com
IP=$(command -v ip)
REC=$WORK/rec.sh

# rec.sh KIND NODE [ARGS...]: one line per call in $WORK/rec/NODE.log:
#   KIND|argv|SUBNET|PUBLIC_IP|IPV6SUBNET|PUBLIC_IPV6|NETWORK|stdin
# (an unset variable is "<unset>"). pre prints the node's data; add and
# remove program the route; $WORK/rec/NODE.fail-KIND makes KIND fail.
cat >"$REC" <<EOF
#!/bin/sh
kind=\$1 node=\$2
in=\$(cat)
d=$WORK/rec
mkdir -p "\$d"
if [ -e "\$d/\$node.fail-\$kind" ]; then
	echo "\$kind|\$*|attempt-failed" >>"\$d/\$node.log"
	echo "boom: \$kind refused on \$node" >&2
	exit 3
fi
echo "\$kind|\$*|\${SUBNET-<unset>}|\${PUBLIC_IP-<unset>}|\${IPV6SUBNET-<unset>}|\${PUBLIC_IPV6-<unset>}|\${NETWORK-<unset>}|\$in" >>"\$d/\$node.log"
case \$kind in
pre) echo "  data of \$node with \"quotes\"  " ;;
add) exec $IP route replace "\$SUBNET" via "\$PUBLIC_IP" dev eth0 ;;
remove) exec $IP route del "\$SUBNET" via "\$PUBLIC_IP" dev eth0 ;;
esac
EOF
chmod +x "$REC"

# NODE_NAME comes from flanneld's environment, SUBNET from the extra variables.
BACKEND="{\"Type\": \"extension\",
  \"PreStartupCommand\": \"$REC pre \$NODE_NAME\",
  \"PostStartupCommand\": \"$REC post \${NODE_NAME} \$SUBNET\",
  \"SubnetAddCommand\": \"$REC add \$NODE_NAME \$SUBNET\",
  \"SubnetRemoveCommand\": \"$REC remove \$NODE_NAME \$SUBNET\"}"

annotation() { kctl get-node "name=node-$1" | python3 -c '
import json, sys
print(json.load(sys.stdin)["node"]["metadata"]["annotations"].get(sys.argv[1], "<none>"))' "$A/$2"; }

# records N KIND [FIELD-REGEX]: node N's records of KIND (matching the regex).
records() { grep -E "^$2\|${3:-}" "$WORK/rec/node-$1.log" 2>/dev/null || true; }
count() { records "$@" | wc -l; }
# route_via N SUBNET GW / no_route N SUBNET: node N's route (the commands set it after their record).
route_via() { output_has "^$2 via $3 dev eth0" in_node "$1" ip route show "$2"; }
no_route() { ! output_has . in_node "$1" ip route show "$2"; }
has_record() { [ "$(count "$@")" -ge 1 ]; }
count_is() { [ "$(count "$1" "$2" "${4:-}")" -eq "$3" ]; }

cluster_underlay
cluster_netconf
for n in 1 2; do cluster_node "$n"; done
for n in 1 2; do start_flanneld "$n"; done
for n in 1 2; do wait_for 30 "node $n ready" node_ready "$n"; done

# ---- 1. start-up, publication, adds, a working datapath ----------------------
[ "$(annotation 1 backend-type)" = extension ] || fail "backend-type $(annotation 1 backend-type)"
data=$(annotation 1 backend-data)
python3 -c 'import json, sys; v = json.loads(sys.argv[1]); sys.exit(v != "data of node-1 with \"quotes\"")' \
	"$data" || fail "backend-data of node 1 is $data, not the trimmed output as a JSON string"
[ "$(annotation 2 public-ip)" = 203.0.113.2 ] || fail "public-ip $(annotation 2 public-ip)"
for n in 1 2; do
	count_is "$n" pre 1 || fail "node $n: PreStartupCommand ran $(count "$n" pre) times"
	has_record "$n" post "post node-$n 198.18.$n.0/24\|198.18.$n.0/24\|203.0.113.$n\|\|\|198.18.0.0/16\|$" ||
		fail "node $n: PostStartupCommand record: $(records "$n" post)"
done
wait_for 10 "node 1's add of node-2" has_record 1 add
has_record 1 add "add node-1 198.18.2.0/24\|198.18.2.0/24\|203.0.113.2\|\|\|<unset>\|data of node-2 with \"quotes\"$" ||
	fail "node 1: SubnetAddCommand record: $(records 1 add)"
wait_for 10 "node 2's add of node-1" has_record 2 add "add node-2 198.18.1.0/24\|198.18.1.0/24\|203.0.113.1\|"
wait_for 5 "node 1's route to node 2" route_via 1 198.18.2.0/24 203.0.113.2
wait_for 5 "node 2's route to node 1" route_via 2 198.18.1.0/24 203.0.113.1
for n in 1 2; do add_pod "$n" 1; done
ping_pods 1 2
ok "PreStartup output published as a JSON string, PostStartup env, adds with the peer's env and data, pods ping"

# ---- 2. a failing SubnetAddCommand ------------------------------------------------
mkdir -p "$WORK/rec"
touch "$WORK/rec/node-1.fail-add"
cluster_node 3
start_flanneld 3
wait_for 30 "node 3 ready" node_ready 3
wait_for 10 "node 2's add of node-3" has_record 2 add "add node-2 198.18.3.0/24\|198.18.3.0/24\|203.0.113.3\|"
wait_for 15 "two failed attempts on node 1" count_is 1 add 2 "add node-1 198.18.3.0/24\|attempt-failed"
n_logged=$(grep -c 'SubnetAddCommand for peer node-3 (SUBNET=198.18.3.0/24) failed: exit status 3: boom: add refused on node-1; retrying with backoff' "$WORK/n1/flanneld.log" || true)
[ "$n_logged" = 1 ] || fail "the failure was logged $n_logged times, not once: $(grep node-3 "$WORK/n1/flanneld.log")"
node_ready 1 || fail "node 1 not ready while a peer's add fails"
[ "$(metric 1 flannel_peers_refused)" = 1 ] || fail "flannel_peers_refused is $(metric 1 flannel_peers_refused), not 1"
output_has '^node-3 .* refused: SubnetAddCommand: exit status 3: boom: add refused on node-1$' http_get 1 /status ||
	fail "flanneld status does not show node-3's failing command: $(http_get 1 /status)"
rm "$WORK/rec/node-1.fail-add"
wait_for 20 "node 1's retried add of node-3" has_record 1 add "add node-1 198.18.3.0/24\|198.18.3.0/24\|203.0.113.3\|"
# The command's end reaches flanneld just after its record.
wait_for 5 "the recovery line in node 1's log" grep -q 'SubnetAddCommand for peer node-3 succeeded again' "$WORK/n1/flanneld.log"
refused_is() { [ "$(metric "$1" flannel_peers_refused)" = "$2" ]; }
wait_for 5 "flannel_peers_refused back to 0" refused_is 1 0
wait_for 5 "node 1's route to node 3" route_via 1 198.18.3.0/24 203.0.113.3
add_pod 3 1
ping_pods 1 2 3
ok "a failing add is logged once with its status and stderr, retried with backoff, then succeeds"

# ---- 3. a deleted node ---------------------------------------------------------------
stop_flanneld 3
kctl delete-node name=node-3 >/dev/null
for n in 1 2; do
	wait_for 10 "node $n's remove of node-3" has_record "$n" remove \
		"remove node-$n 198.18.3.0/24\|198.18.3.0/24\|203.0.113.3\|\|\|<unset>\|data of node-3 with \"quotes\"$"
	wait_for 5 "node $n's route to node 3 gone" no_route "$n" 198.18.3.0/24
done
ok "a deleted node: SubnetRemoveCommand with its lease and data on every node, route gone"

# ---- 4. a changed lease: remove the old, then add the new ---------------------
stop_flanneld 2
kctl modify-node name=node-2 "annotations.$A/backend-data=\"\\\"new data\\\"\"" >/dev/null
wait_for 10 "node 1's add of node-2's new data" has_record 1 add "add node-1 198.18.2.0/24\|.*\|new data$"
tail -n 2 "$WORK/rec/node-1.log" | {
	read -r first
	read -r second
	[[ $first == "remove|remove node-1 198.18.2.0/24|198.18.2.0/24|203.0.113.2|"*"|data of node-2 with \"quotes\"" ]] &&
		[[ $second == "add|add node-1 198.18.2.0/24|198.18.2.0/24|203.0.113.2|"*"|new data" ]]
} || fail "node 1 did not remove the old lease before adding the new one: $(tail -n 3 "$WORK/rec/node-1.log")"
start_flanneld 2
wait_for 30 "node 2 ready again" node_ready 2
ORIG='add node-1 198.18.2.0/24\|.*\|data of node-2 with "quotes"$'
wait_for 10 "node 1's remove of node-2's changed lease" has_record 1 remove "remove node-1 198.18.2.0/24\|.*\|new data$"
wait_for 10 "node 1's add of node-2's republished data" count_is 1 add 2 "$ORIG"
wait_for 5 "node 1's route to node 2" route_via 1 198.18.2.0/24 203.0.113.2
ping_pods 1 2
ok "a changed lease: remove of the old one, then add of the new one"

# ---- 5. restart --------------------------------------------------------------------
sleep 1 # nothing pending
adds=$(count 1 add) removes=$(count 1 remove) pres=$(count 1 pre) posts=$(count 1 post)
stop_flanneld 1
start_flanneld 1
wait_for 30 "node 1 ready again" node_ready 1
wait_for 10 "node 1's add of node-2 after the restart" count_is 1 add $((adds + 1))
sleep 1
count_is 1 add $((adds + 1)) || fail "restart: $(count 1 add) adds, expected $((adds + 1))"
count_is 1 remove "$removes" || fail "restart ran a remove"
count_is 1 pre $((pres + 1)) && count_is 1 post $((posts + 1)) || fail "restart: pre/post did not run once"
ping_pods 1 2
ok "restart: PreStartup, PostStartup and one add per peer again, no remove"

# ---- 6. bad configuration ------------------------------------------------------------
stop_flanneld 1
cp "$WORK/net-conf.json" "$WORK/net-conf.good"
BACKEND='{"Type": "extension", "SubnetAddCommand": 5}' cluster_netconf
log_mark 1
start_flanneld 1
wait_for 10 "flanneld to exit on the bad config" bash -c "! kill -0 ${FLANNELD_PID[1]} 2>/dev/null"
wait "${FLANNELD_PID[1]}" && fail "flanneld exited 0 on a bad config"
output_has 'Backend: SubnetAddCommand: expected a string, got number' log_since 1 ||
	fail "no error naming SubnetAddCommand: $(log_since 1)"
touch "$WORK/rec/node-1.fail-pre"
cp "$WORK/net-conf.good" "$WORK/net-conf.json"
log_mark 1
posts=$(count 1 post) adds=$(count 1 add)
start_flanneld 1
wait_for 30 "flanneld to exit on a failing PreStartupCommand" bash -c "! kill -0 ${FLANNELD_PID[1]} 2>/dev/null"
wait "${FLANNELD_PID[1]}" && fail "flanneld exited 0 with a failing PreStartupCommand"
output_has 'PreStartupCommand: exit status 3: boom: pre refused on node-1' log_since 1 ||
	fail "no error naming PreStartupCommand: $(log_since 1)"
count_is 1 post "$posts" && count_is 1 add "$adds" || fail "commands ran after PreStartupCommand failed"
route_via 1 198.18.2.0/24 203.0.113.2 || fail "the failed start tore down node 1's route"
ok "bad config and a failing PreStartupCommand stop flanneld naming the field; nothing torn down"
