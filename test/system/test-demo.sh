#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's demo (test/demo/run), non-interactively with two nodes and a
# prefix of its own: it installs/builds (a no-op here), shows both leases and
# an all-green connectivity matrix in plain text, exits 0, and leaves nothing
# behind. A kept demo stays running, the next run removes it first, and
# --cleanup removes a kept demo completely.
set -euo pipefail
: "${BUILD_DIR:?BUILD_DIR must be set}"
: "${SRC_DIR:?SRC_DIR must be set}"
export BUILD_DIR
export DEMO_PREFIX=sys-demo-$$
DEMO=$SRC_DIR/test/demo/run
OUT=$(mktemp -d "/tmp/$DEMO_PREFIX-out.XXXXXX")
trap '"$DEMO" --cleanup >/dev/null 2>&1 || true; rm -rf "$OUT"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() { echo "ok: $*"; }
demo_ns() { ip netns list | awk '{print $1}' | grep -c "^$DEMO_PREFIX-" || true; }
demo_procs() { ip netns pids "$DEMO_PREFIX-n1" 2>/dev/null | xargs -r ps -o comm= -p | grep -c flanneld || true; }

# run NAME ARGS...: the demo's output in $OUT/NAME; fails unless it exits 0.
run() {
	local name=$1
	shift
	if ! "$DEMO" "$@" >"$OUT/$name" 2>&1; then
		cat "$OUT/$name"
		fail "demo $* exited non-zero"
	fi
}

# check_output NAME: leases of both nodes, the matrix all green, plain text.
check_output() {
	local f=$OUT/$1 n
	grep -qx "matrix: 12 of 12 pod pairs reachable: all green" "$f" ||
		{ cat "$f"; fail "$1: the matrix line does not say 12 of 12, all green"; }
	for n in 1 2; do
		grep -Eq "^node-$n +198\.18\.$n\.0/24 +203\.0\.113\.$n +vxlan +([0-9a-f]{2}:){5}[0-9a-f]{2} +yes$" "$f" ||
			{ cat "$f"; fail "$1: no lease row for node-$n"; }
	done
	[ "$(grep -c '✔' "$f")" -eq 4 ] || { cat "$f"; fail "$1: not 4 matrix rows of ticks"; }
	grep -q '✘' "$f" && fail "$1: a cross in the matrix"
	grep -q "^node-1 \$ bridge fdb show dev flannel.1" "$f" || fail "$1: no FDB of node-1"
	grep -Eq "^node-2 +198\.18\.2\.0/24 +203\.0\.113\.2 +ok +ok +ok" "$f" ||
		fail "$1: the status view lacks node-2's healthy row"
	grep -q $'\e' "$f" && fail "$1: colour codes although stdout is not a terminal"
	tail -n 1 "$f" | grep -q "^demo: PASS - 2 node(s), 4 pods, backend vxlan: 12 of 12 pod pairs reachable, all green$" ||
		fail "$1: the summary line"
}

"$DEMO" --help | grep -q -- "--keep" || fail "--help"
"$DEMO" --nodes 0 >/dev/null 2>&1 && fail "--nodes 0 accepted"
"$DEMO" --backend udp >/dev/null 2>&1 && fail "--backend udp accepted"
ok "--help and argument checks"

run plain --nodes 2
check_output plain
[ "$(demo_ns)" -eq 0 ] || fail "namespaces left after a plain run"
compgen -G "/tmp/$DEMO_PREFIX.??????" >/dev/null && fail "files left after a plain run"
ok "plain run: leases, all-green matrix, routes, status, nothing left"

run kept --nodes 2 --keep
check_output kept
grep -q "$DEMO --cleanup" "$OUT/kept" || fail "--keep does not print the cleanup command"
[ "$(demo_ns)" -eq 7 ] || fail "--keep: $(demo_ns) namespaces, not 7 (underlay, 2 nodes, 4 pods)"
[ "$(demo_procs)" -eq 1 ] || fail "--keep: flanneld is not running in node 1"
ok "--keep leaves the cluster running"

run again --nodes 2 --keep
grep -qx "removed a previous demo (7 namespaces)" "$OUT/again" || fail "second run did not remove the kept demo"
check_output again
[ "$(demo_ns)" -eq 7 ] || fail "second --keep run: $(demo_ns) namespaces, not 7"
ok "a second run removes the kept demo first and works the same"

"$DEMO" --cleanup >"$OUT/cleanup" || fail "--cleanup"
grep -q "removed 7 namespace" "$OUT/cleanup" || fail "--cleanup output: $(cat "$OUT/cleanup")"
[ "$(demo_ns)" -eq 0 ] || fail "namespaces left after --cleanup"
compgen -G "/tmp/$DEMO_PREFIX.??????" >/dev/null && fail "files left after --cleanup"
ok "--cleanup removes every namespace, process and file"
