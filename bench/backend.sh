#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (not a test): the vxlan backend programming N peers (default
# 5000) from scratch, then reconciling the same N unchanged peers (a full
# pass: dumps), through test/tools/backend-driver in a namespace of its own.
# Reports wall time of each reconcile pass and its netlink operations.
# Targets: < 0.5 s from scratch, zero kernel writes when unchanged.
#
# Then the incremental path: with the N peers installed, CHURN (default 200)
# times one peer removed and added back, one reconcile each: latency p50/p99
# over the 2*CHURN ops (target p99 < 2.5 ms), dumps and writes per op (0 and
# 3), how many notifications were echoes of our own writes, and how many
# passes the notifications caused (target 0). snapshot_usec is the cost of
# lease_set_snapshot() that flanneld adds before each reconcile.
#
#   [ bb-<pid>: eth0 203.0.113.1/24 (veth, peer end in the same namespace) ]
#   peer i: subnet 198.18.0.0/16 split in /29s (8192), public IP 198.19.x.y
#   (FDB destinations only: no packet is ever sent).
#
#   BUILD_DIR=build bench/backend.sh [N]
set -euo pipefail

N=${1:-5000}
: "${BUILD_DIR:?BUILD_DIR must be set}"
DRIVER=$BUILD_DIR/test/backend-driver
NS=bb-$$
TMP=$(mktemp -d "/tmp/$NS.XXXXXX")
cleanup() {
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
[ "$N" -le 8000 ] || { echo "N must be <= 8000" >&2; exit 1; }
[ -x "$DRIVER" ] || { echo "$DRIVER not built" >&2; exit 1; }

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add eth0 type veth peer name eth0p
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth0p up
ip -n "$NS" addr add 203.0.113.1/24 dev eth0
ip -n "$NS" route add default via 203.0.113.254 dev eth0 onlink

# Peer i (1..N): subnet 198.18.0.0/16's i-th /29, public IP 198.19.(i/256).(i%256).
awk -v n="$N" 'BEGIN {
	for (i = 1; i <= n; i++) {
		b = i * 8
		printf "node%05d subnet=198.18.%d.%d/29 ip=198.19.%d.%d mac=0e:00:00:%02x:%02x:%02x\n",
			i, int(b / 256), b % 256, int(i / 256), i % 256, int(i / 65536), int(i / 256) % 256, i % 256
	}
}' >"$TMP/peers"

run() {
	ip netns exec "$NS" "$DRIVER" --backend '{"Type":"vxlan"}' --iface eth0 --name self \
		--subnet 198.18.0.0/29 --peers "$TMP/peers" --once 2>"$TMP/err" | grep '^reconcile' ||
		{ cat "$TMP/err" >&2; exit 1; }
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
report() {
	local label=$1 line=$2 usec writes
	usec=$(sed -n 's/.* usec=\([0-9]*\).*/\1/p' <<<"$line")
	writes=$(sed -n 's/.* writes=\([0-9]*\).*/\1/p' <<<"$line")
	printf '%-22s %6d peers  %8.3f s  %6d kernel writes  ops:%s\n' "$label" "$N" \
		"$(awk -v u="$usec" 'BEGIN { print u / 1e6 }')" "$writes" \
		"$(grep -o ' \(dump\|route_replace\|neigh_replace\|fdb_replace\|route_del\|neigh_del\|fdb_del\)=[0-9]*' <<<"$line" | tr -d '\n')"
}

report "from scratch" "$(run)"
report "unchanged" "$(run)"
[ "$(ip -n "$NS" route show proto 63 | wc -l)" = "$N" ] || { echo "not all routes installed" >&2; exit 1; }

CHURN=${CHURN:-200}
line=$(ip netns exec "$NS" "$DRIVER" --backend '{"Type":"vxlan"}' --iface eth0 --name self \
	--subnet 198.18.0.0/29 --peers "$TMP/peers" --churn "$CHURN" 2>"$TMP/err" | grep '^churn') ||
	{ cat "$TMP/err" >&2; exit 1; }
printf '%-22s %6d peers  p50 %6.3f ms  p99 %6.3f ms  max %6.3f ms\n' "single-peer add/del" "$N" \
	"$(awk -v u="$(field "$line" p50_usec)" 'BEGIN { print u / 1e3 }')" \
	"$(awk -v u="$(field "$line" p99_usec)" 'BEGIN { print u / 1e3 }')" \
	"$(awk -v u="$(field "$line" max_usec)" 'BEGIN { print u / 1e3 }')"
printf '%-22s %s ops  %s dumps/op  %s writes/op  %s echoes  %s passes caused by notifications  snapshot %s us/op\n' \
	"" "$(field "$line" ops)" "$(field "$line" dumps_per_op)" "$(field "$line" writes_per_op)" \
	"$(field "$line" events_echo)" "$(field "$line" event_passes)" "$(field "$line" snapshot_usec_per_op)"
[ "$(ip -n "$NS" route show proto 63 | wc -l)" = "$N" ] || { echo "churn lost routes" >&2; exit 1; }
