#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The flannel CNI plugin in delegate mode (Debian's real bridge and
# host-local) or, with CNI_MODE=builtin, in built-in mode (no bridge or
# host-local in CNI_PATH at all), chained with Debian's portmap, everything
# inside namespaces this test creates:
#
#   node ns (cni-node-$$): the "host" where the runtime runs the plugin;
#   |  cni0 198.18.5.1/24 (created by bridge), ip_forward, portmap's iptables
#   +-- veth -- pod ns cni-pa-$$  eth0 198.18.5.x/24
#   +-- veth -- pod ns cni-pb-$$  eth0 198.18.5.y/24
#   +-- veth -- pod ns cni-pc-$$  eth0 (ADD through flannel + portmap, as a conflist)
#
# subnet.env, the plugin's state (dataDir) and host-local's data live in a
# temporary directory. Checks: ADD gives an address of the node subnet and
# the route to the Network (also when the pod's end has its host end's
# interface index), two pods ping each other, CHECK, DEL twice,
# error codes for malformed stdin / missing env / missing subnet.env, and a
# port mapping by chaining portmap after flannel like a runtime does. Both
# modes must give the same pod layout and the same result (normalised: MACs
# and host veth names aside), checked against one expectation; STATUS and
# GC (CNI 1.1.0) work in both (delegate mode does not forward them to
# Debian's bridge 1.1.1, which predates them).
set -euo pipefail

BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point to the build tree}
PLUGIN=$BUILD_DIR/cmd/flannel
CNI_BIN=/usr/lib/cni
MODE=${CNI_MODE:-delegate}
case $MODE in delegate | builtin) ;; *) echo "FAIL: CNI_MODE=$MODE" >&2; exit 1 ;; esac
echo "== mode $MODE"

if [ "$(id -u)" -ne 0 ]; then
	echo "FAIL: needs root (CAP_NET_ADMIN) to create network namespaces" >&2
	exit 1
fi

node=cni-node-$$
pa=cni-pa-$$
pb=cni-pb-$$
pc=cni-pc-$$
tmp=$(mktemp -d /tmp/test-cni.XXXXXX)
server_pid=

cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
	for ns in "$pa" "$pb" "$pc" "$node"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

for ns in "$node" "$pa" "$pb" "$pc"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done

# A bin directory with our plugin next to Debian's (the runtime's CNI_PATH);
# built-in mode needs neither bridge nor host-local.
mkdir -p "$tmp/bin"
cp "$PLUGIN" "$tmp/bin/flannel"
plugins="portmap loopback"
[ "$MODE" = builtin ] || plugins="bridge host-local $plugins"
for p in $plugins; do
	ln -s "$CNI_BIN/$p" "$tmp/bin/$p"
done

cat >"$tmp/subnet.env" <<ENV
FLANNEL_NETWORK=198.18.0.0/16
FLANNEL_SUBNET=198.18.5.1/24
FLANNEL_MTU=1450
FLANNEL_IPMASQ=true
ENV

# The plugin configuration a runtime derives from kube-flannel.yml's conflist
# (whose version, 0.3.1, has no CHECK: pods a and b use 1.0.0).
conf() {
	cat <<JSON
{"cniVersion":"${2:-1.0.0}","name":"cbr0","type":"flannel","mode":"$MODE","subnetFile":"$tmp/${1:-subnet.env}",
 "dataDir":"$tmp/state","ipam":{"dataDir":"$tmp/ipam"},
 "delegate":{"hairpinMode":true,"isDefaultGateway":true}}
JSON
}

# cni COMMAND CONTAINERID POD-NS [stdin file]: runs the plugin in the node namespace.
cni() {
	local cmd=$1 id=$2 pod=$3 in=${4:-$tmp/conf.json}
	ip netns exec "$node" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		CNI_COMMAND="$cmd" CNI_CONTAINERID="$id" CNI_NETNS="/var/run/netns/$pod" \
		CNI_IFNAME=eth0 CNI_PATH="$tmp/bin" "$tmp/bin/flannel" <"$in"
}

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

conf >"$tmp/conf.json"

echo "== ADD two pods"
# Pod a's namespace has used one interface index already, so that its eth0
# gets the index of its host end (3, after lo and cni0): the kernel then
# leaves the peer's index (IFLA_LINK) out of the host end's description.
ip -n "$pa" link add burn type veth peer name burn netns "$pc"
ip -n "$pa" link del burn
cni ADD ctr-a "$pa" >"$tmp/a.json" || fail "ADD a: $(cat "$tmp/a.json")"
cni ADD ctr-b "$pb" >"$tmp/b.json" || fail "ADD b: $(cat "$tmp/b.json")"
ip_a=$(json 'd["ips"][0]["address"].split("/")[0]' <"$tmp/a.json")
ip_b=$(json 'd["ips"][0]["address"].split("/")[0]' <"$tmp/b.json")
echo "pod a: $ip_a, pod b: $ip_b"
case "$ip_a" in 198.18.5.*) ;; *) fail "pod a address $ip_a is not in the node subnet" ;; esac
case "$ip_b" in 198.18.5.*) ;; *) fail "pod b address $ip_b is not in the node subnet" ;; esac
[ "$ip_a" != "$ip_b" ] || fail "both pods got $ip_a"
[ "$(json 'd["cniVersion"]' <"$tmp/a.json")" = 1.0.0 ] || fail "result version"

ip -n "$pa" -4 addr show dev eth0 | grep -q "inet $ip_a/24" || fail "eth0 of pod a lacks $ip_a/24"
ip -n "$pa" route show 198.18.0.0/16 | grep -q "via 198.18.5.1 dev eth0" ||
	fail "pod a has no route to the Network: $(ip -n "$pa" route)"
ip -n "$pa" route show default | grep -q "via 198.18.5.1" || fail "no default route (isDefaultGateway)"
[ "$(ip -n "$pa" -o link show eth0 | grep -o 'mtu [0-9]*')" = "mtu 1450" ] || fail "pod MTU"
ip -n "$node" -4 addr show dev cni0 | grep -q "inet 198.18.5.1/24" || fail "cni0 lacks the gateway"
[ "$(stat -c %a "$tmp/state")" = 700 ] || fail "state directory mode"
[ "$(stat -c %a "$tmp/state/ctr-a")" = 600 ] || fail "state file mode"
# The layout bridge gives: hairpin on the host end, MTU on both ends and cni0.
host_a=$(json 'd["interfaces"][1]["name"]' <"$tmp/a.json")
[ "$(ip -n "$pa" -o link show eth0 | cut -d: -f1)" = "$(ip -n "$node" -o link show "$host_a" | cut -d: -f1)" ] ||
	fail "test setup: eth0 of pod a and $host_a were meant to have the same index"
ip -n "$node" -d link show "$host_a" | grep -q "master cni0" || fail "$host_a is not on cni0"
ip -n "$node" -d link show "$host_a" | grep -q "hairpin on" || fail "$host_a without hairpin"
ip -n "$node" link show "$host_a" | grep -q "mtu 1450" || fail "$host_a MTU"
ip -n "$node" link show cni0 | grep -q "mtu 1450" || fail "cni0 MTU"
[ "$(ip netns exec "$node" cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || fail "ip_forward"
[ "$(json 'd["interfaces"][2]["mac"]' <"$tmp/a.json")" = \
	"$(ip -n "$pa" -o link show eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)" ] ||
	fail "the result's MAC of eth0 is not the pod's"
[ -s "$tmp/ipam/cbr0/$ip_a" ] || fail "no host-local reservation of $ip_a"
[ "$(od -An -c "$tmp/ipam/cbr0/$ip_a" | tr -d ' \n')" = 'ctr-a\r\neth0' ] ||
	fail "reservation content: $(od -c "$tmp/ipam/cbr0/$ip_a")"

# The result, as bridge gives it, the same in both modes.
normalise() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
for i in d["interfaces"]:
    i["mac"] = "MAC" if len(i["mac"]) == 17 else i["mac"]
    if i["name"].startswith("veth") and len(i["name"]) == 12:
        i["name"] = "vethX"
print(json.dumps(d, sort_keys=True))'
}
want='{"cniVersion": "1.0.0", "dns": {}, "interfaces": [{"mac": "MAC", "name": "cni0"}, {"mac": "MAC", "name": "vethX"}, {"mac": "MAC", "name": "eth0", "sandbox": "/var/run/netns/'$pa'"}], "ips": [{"address": "'$ip_a'/24", "gateway": "198.18.5.1", "interface": 2}], "routes": [{"dst": "198.18.0.0/16"}, {"dst": "0.0.0.0/0", "gw": "198.18.5.1"}]}'
got=$(normalise <"$tmp/a.json")
[ "$got" = "$want" ] || fail "result of ADD:
 got  $got
 want $want"

python3 - "$tmp/state/ctr-a" <<'PY' || fail "saved delegate configuration"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["type"] == "bridge" and d["name"] == "cbr0" and d["ipMasq"] is False, d
assert d["ipam"]["ranges"] == [[{"subnet": "198.18.5.0/24"}]], d
assert d["ipam"]["routes"] == [{"dst": "198.18.0.0/16"}], d
PY

echo "== pods ping each other"
ip netns exec "$pa" ping -c 2 -W 2 "$ip_b" >/dev/null || fail "pod a cannot ping pod b"
ip netns exec "$pb" ping -c 2 -W 2 "$ip_a" >/dev/null || fail "pod b cannot ping pod a"

echo "== CHECK"
# Debian's bridge 1.1.1 fails CHECK for routes without a gateway (fixed
# upstream in containernetworking/plugins#887), so the prevResult given here
# lists the interfaces and addresses; bridge checks those against the pod.
# Built-in mode checks the routes too: it gets the whole result.
python3 - "$tmp/conf.json" "$tmp/a.json" "$MODE" >"$tmp/check.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
prev = json.load(open(sys.argv[2]))
d["prevResult"] = prev if sys.argv[3] == "builtin" else {k: v for k, v in prev.items() if k != "routes"}
print(json.dumps(d))
PY
cni CHECK ctr-a "$pa" "$tmp/check.json" >"$tmp/check.out" || fail "CHECK of a healthy pod: $(cat "$tmp/check.out")"
if [ "$MODE" = builtin ]; then
	ip -n "$pa" route del default
	if cni CHECK ctr-a "$pa" "$tmp/check.json" >"$tmp/check.out"; then
		fail "CHECK passed for a pod without its default route"
	fi
	grep -q 'lacks its route to 0.0.0.0/0' "$tmp/check.out" || fail "CHECK: $(cat "$tmp/check.out")"
	ip -n "$pa" route add default via 198.18.5.1
fi
ip -n "$pa" addr flush dev eth0
if cni CHECK ctr-a "$pa" "$tmp/check.json" >"$tmp/check.out"; then
	fail "CHECK passed for a pod without its address"
fi
grep -q '"code"' "$tmp/check.out" || fail "CHECK failure without error JSON"

echo "== DEL twice"
cni DEL ctr-a "$pa" >"$tmp/del.out" || fail "DEL a: $(cat "$tmp/del.out")"
[ ! -e "$tmp/state/ctr-a" ] || fail "state of a left after DEL"
[ ! -e "$tmp/ipam/cbr0/$ip_a" ] || fail "host-local reservation of $ip_a left after DEL"
! ip -n "$pa" link show eth0 2>/dev/null || fail "eth0 of pod a left after DEL"
cni DEL ctr-a "$pa" >"$tmp/del.out" || fail "second DEL a: $(cat "$tmp/del.out")"
[ ! -s "$tmp/del.out" ] || fail "DEL printed $(cat "$tmp/del.out")"
ip netns exec "$node" env -i CNI_COMMAND=DEL CNI_CONTAINERID=ctr-never CNI_IFNAME=eth0 \
	CNI_PATH="$tmp/bin" "$tmp/bin/flannel" <"$tmp/conf.json" || fail "DEL of an unknown container"

echo "== error codes"
code() { json 'd["code"]' <"$1"; }
echo '{"name":' >"$tmp/bad.json"
if cni ADD ctr-x "$pa" "$tmp/bad.json" >"$tmp/err.json"; then fail "malformed stdin accepted"; fi
[ "$(code "$tmp/err.json")" = 6 ] || fail "malformed stdin: $(cat "$tmp/err.json")"
if ip netns exec "$node" env -i CNI_COMMAND=ADD CNI_PATH="$tmp/bin" "$tmp/bin/flannel" \
	<"$tmp/conf.json" >"$tmp/err.json"; then fail "ADD without CNI_CONTAINERID accepted"; fi
[ "$(code "$tmp/err.json")" = 4 ] || fail "missing env: $(cat "$tmp/err.json")"
grep -q 'CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME' "$tmp/err.json" || fail "missing env names"
conf missing.env >"$tmp/nosubnet.json"
if cni ADD ctr-x "$pa" "$tmp/nosubnet.json" >"$tmp/err.json"; then fail "ADD without subnet.env"; fi
[ "$(code "$tmp/err.json")" = 11 ] || fail "missing subnet.env: $(cat "$tmp/err.json")"
grep -q "failed to load flannel 'subnet.env' file: open $tmp/missing.env: no such file" \
	"$tmp/err.json" || fail "missing subnet.env message: $(cat "$tmp/err.json")"
[ ! -e "$tmp/state/ctr-x" ] || fail "state left by a failed ADD"
out=$(ip netns exec "$node" env -i CNI_COMMAND=VERSION "$tmp/bin/flannel" </dev/null)
[ "$out" = '{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}' ] ||
	fail "VERSION: $out"

echo "== conflist: flannel then portmap (prevResult chaining as a runtime does)"
conf subnet.env 0.3.1 >"$tmp/conf-0.3.1.json"
cni ADD ctr-c "$pc" "$tmp/conf-0.3.1.json" >"$tmp/c.json" || fail "ADD c: $(cat "$tmp/c.json")"
ip_c=$(json 'd["ips"][0]["address"].split("/")[0]' <"$tmp/c.json")
python3 - "$tmp/c.json" >"$tmp/portmap.json" <<'PY'
import json, sys
print(json.dumps({"cniVersion": "0.3.1", "name": "cbr0", "type": "portmap",
                  "runtimeConfig": {"portMappings": [
                      {"hostPort": 18080, "containerPort": 80, "protocol": "tcp"}]},
                  "prevResult": json.load(open(sys.argv[1]))}))
PY
ip netns exec "$node" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND=ADD \
	CNI_CONTAINERID=ctr-c CNI_NETNS="/var/run/netns/$pc" CNI_IFNAME=eth0 CNI_PATH="$tmp/bin" \
	"$tmp/bin/portmap" <"$tmp/portmap.json" >"$tmp/pm.out" || fail "portmap ADD: $(cat "$tmp/pm.out")"
[ "$(json 'd["ips"][0]["address"]' <"$tmp/pm.out")" = "$ip_c/24" ] || fail "portmap lost the result"
echo "served by pod c" >"$tmp/index.html"
ip netns exec "$pc" python3 -m http.server 80 --bind "$ip_c" --directory "$tmp" \
	>/dev/null 2>&1 &
server_pid=$!
got=
for _ in $(seq 50); do
	got=$(ip netns exec "$node" python3 -c "
import urllib.request
print(urllib.request.urlopen('http://198.18.5.1:18080/index.html', timeout=1).read().decode().strip())
" 2>/dev/null) && break
	sleep 0.2
done
[ "$got" = "served by pod c" ] || fail "host port 18080 does not reach pod c: '$got'"
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=
# DEL runs the list in reverse: portmap, then flannel.
ip netns exec "$node" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND=DEL \
	CNI_CONTAINERID=ctr-c CNI_NETNS="/var/run/netns/$pc" CNI_IFNAME=eth0 CNI_PATH="$tmp/bin" \
	"$tmp/bin/portmap" <"$tmp/portmap.json" || fail "portmap DEL"
! ip netns exec "$node" iptables -t nat -S 2>/dev/null | grep -q "dport 18080" ||
	fail "portmap rule left after DEL"
cni DEL ctr-c "$pc" "$tmp/conf-0.3.1.json" || fail "DEL c"

echo "== STATUS and GC (CNI 1.1.0)"
conf subnet.env 1.1.0 >"$tmp/conf-1.1.0.json"
ip netns exec "$node" env -i CNI_COMMAND=STATUS CNI_PATH="$tmp/bin" "$tmp/bin/flannel" \
	<"$tmp/conf-1.1.0.json" >"$tmp/status.out" || fail "STATUS: $(cat "$tmp/status.out")"
conf missing.env 1.1.0 >"$tmp/nosubnet-1.1.0.json"
if ip netns exec "$node" env -i CNI_COMMAND=STATUS CNI_PATH="$tmp/bin" "$tmp/bin/flannel" \
	<"$tmp/nosubnet-1.1.0.json" >"$tmp/status.out"; then fail "STATUS ready without subnet.env"; fi
[ "$(code "$tmp/status.out")" = 50 ] || fail "STATUS without subnet.env: $(cat "$tmp/status.out")"
# Pod c again, then GC with only pod b valid.
cni ADD ctr-c "$pc" >"$tmp/c.json" || fail "ADD c again: $(cat "$tmp/c.json")"
ip_c=$(json 'd["ips"][0]["address"].split("/")[0]' <"$tmp/c.json")
host_c=$(json 'd["interfaces"][1]["name"]' <"$tmp/c.json")
# Debian's bridge 1.1.1 has no GC: delegate mode releases c by DEL and keeps its state file for GC.
if [ "$MODE" = delegate ]; then
	cp "$tmp/state/ctr-c" "$tmp/ctr-c.saved"
	cni DEL ctr-c "$pc" || fail "DEL c"
	cp "$tmp/ctr-c.saved" "$tmp/state/ctr-c"
fi
python3 - "$tmp/conf-1.1.0.json" >"$tmp/gc.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["cni.dev/valid-attachments"] = [{"containerID": "ctr-b", "ifname": "eth0"}]
print(json.dumps(d))
PY
ip netns exec "$node" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND=GC \
	CNI_PATH="$tmp/bin" "$tmp/bin/flannel" <"$tmp/gc.json" >"$tmp/gc.out" ||
	fail "GC: $(cat "$tmp/gc.out")"
[ ! -e "$tmp/state/ctr-c" ] || fail "GC left the state of c"
[ -e "$tmp/state/ctr-b" ] || fail "GC removed the state of b"
[ -e "$tmp/ipam/cbr0/$ip_b" ] || fail "GC released b's address"
if [ "$MODE" = builtin ]; then
	# Built-in GC releases the stale address and removes its interface.
	[ ! -e "$tmp/ipam/cbr0/$ip_c" ] || fail "GC left c's address $ip_c"
	! ip -n "$node" link show "$host_c" 2>/dev/null || fail "GC left $host_c"
	ip -n "$node" link show "$(json 'd["interfaces"][1]["name"]' <"$tmp/b.json")" >/dev/null ||
		fail "GC removed b's interface"
fi

echo "== DEL after the pod's namespace is gone (a reboot)"
ip netns del "$pb"
cni DEL ctr-b "$pb" >"$tmp/del.out" || fail "DEL b without its netns: $(cat "$tmp/del.out")"
[ -z "$(ls -A "$tmp/state")" ] || fail "state left: $(ls "$tmp/state")"
left=$(ls "$tmp/ipam/cbr0" | grep -v -e '^lock$' -e '^last_reserved_ip' || true)
[ -z "$left" ] || fail "addresses left: $left"
[ -z "$(ip -n "$node" -o link show type veth)" ] || fail "veths left: $(ip -n "$node" -o link show type veth)"

echo "PASS"
