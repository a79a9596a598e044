# SPDX-License-Identifier: Apache-2.0
# Helpers for the etcd system tests: a private network namespace (so etcd's
# fixed loopback ports collide with nobody and nothing touches the root
# namespace), a real etcd server with a temporary data dir, the
# etcd-agent-probe runner and polling helpers. Sourced, not run.

PROBE=${BUILD_DIR:?BUILD_DIR must be set}/test/etcd-agent-probe
EP=http://127.0.0.1:2379

# Re-run the calling script inside a new network namespace of its own.
etcd_lib_enter_netns() {
	if [ -z "${ETCD_TEST_IN_NETNS:-}" ]; then
		exec unshare --net env ETCD_TEST_IN_NETNS=1 bash "$0" "$@"
	fi
	ip link set lo up
}

T=$(mktemp -d /tmp/flannel-etcd-test.XXXXXX)
declare -A PIDS=()
ETCD_PID=
ETCDCTL_ARGS=(--endpoints "$EP")

etcd_lib_cleanup() {
	local rc=$?
	for p in "${PIDS[@]}" $ETCD_PID; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}" $ETCD_PID; do
		wait "$p" 2>/dev/null || true
	done
	if [ "$rc" != 0 ]; then
		for f in "$T"/*.out "$T"/*.err; do
			[ -f "$f" ] || continue
			echo "==== $f (last 30 lines)"
			tail -n 30 "$f"
		done
		echo "==== etcd log (last 15 lines)"
		tail -n 15 "$T/etcd.log" 2>/dev/null || true
	fi
	rm -rf "$T"
	exit "$rc"
}
trap etcd_lib_cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ectl() {
	ETCDCTL_API=3 etcdctl "${ETCDCTL_ARGS[@]}" "$@"
}

# start_etcd [extra etcd args...]: (re)start etcd on 127.0.0.1:2379 with the data in $T/etcd.
start_etcd() {
	local scheme=${ETCD_SCHEME:-http}
	etcd --name t --data-dir "$T/etcd" \
		--listen-client-urls "$scheme://127.0.0.1:2379" \
		--advertise-client-urls "$scheme://127.0.0.1:2379" \
		--listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster t=http://127.0.0.1:2380 "$@" >>"$T/etcd.log" 2>&1 &
	ETCD_PID=$!
	for _ in $(seq 1 100); do
		if ectl endpoint health >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	fail "etcd did not become healthy"
}

stop_etcd() {
	kill -"${1:-TERM}" "$ETCD_PID"
	wait "$ETCD_PID" 2>/dev/null || true
	ETCD_PID=
}

# start_agent NAME PUBLIC-IP [probe args...]: run a probe, stdout in $T/NAME.out.
start_agent() {
	local name=$1 ip=$2
	shift 2
	"$PROBE" --endpoints "${AGENT_EP:-$EP}" --public-ip "$ip" \
		--subnet-file "$T/$name.env" "$@" >>"$T/$name.out" 2>>"$T/$name.err" &
	PIDS[$name]=$!
}

stop_agent() {
	local name=$1 sig=${2:-TERM}
	kill -"$sig" "${PIDS[$name]}" 2>/dev/null || true
	wait "${PIDS[$name]}" 2>/dev/null || true
	unset "PIDS[$name]"
}

# wait_for FILE REGEX [SECONDS]: until a line of FILE matches.
wait_for() {
	local file=$1 re=$2 secs=${3:-20}
	for _ in $(seq 1 $((secs * 10))); do
		if grep -Eq -- "$re" "$file" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	fail "timed out waiting for /$re/ in $file"
}

# count FILE REGEX: number of matching lines.
count() {
	grep -Ec -- "$2" "$1" 2>/dev/null || true
}

# own NAME: the subnet of the last OWN line.
own() {
	grep '^OWN ' "$T/$1.out" | tail -n 1 | cut -d' ' -f3
}

# last_peers NAME: the peer list of the last PEERS line, names only, sorted.
last_peers() {
	grep '^PEERS ' "$T/$1.out" | tail -n 1 | cut -d' ' -f4- | tr ' ' '\n' | cut -d= -f1 |
		sed '/^$/d' | sort | tr '\n' ' '
}

# key_of SUBNET: the etcd key name of a.b.c.d/len.
key_of() {
	echo "${1/\//-}"
}
