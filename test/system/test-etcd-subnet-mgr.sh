#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The etcd subnet manager against a real etcd (Debian's etcd-server), each
# agent being test/tools/etcd-agent-probe (the manager alone on a loop):
#
#   +--------------------- private netns (unshare -n) ----------------------+
#   |  lo 127.0.0.1:2379  etcd (temp data dir)                              |
#   |     ^      ^      ^      ^                                            |
#   |     a      b      c      d (short TTL)   e (other --etcd-prefix)      |
#   +-----------------------------------------------------------------------+
#
# Covers: missing and invalid config (upstream's messages, retried every
# second), three agents with distinct subnets that see each other, endpoint
# failover, a restart keeping the subnet, renewal, an expired lease
# reacquired from subnet.env, a deleted own key ("Lease has been revoked"),
# compaction forcing a relist, etcd stopped and restarted (peers kept, watch
# recovers), and a second network under another prefix.
set -euo pipefail
source "$(dirname "$0")/etcd-lib.sh"
etcd_lib_enter_netns "$@"

start_etcd

# ---- missing config, then invalid config, then a good one ----
start_agent a 203.0.113.1 --vtep-mac 02:00:00:00:00:01
wait_for "$T/a.err" 'Couldn.t fetch network config: flannel config not found in etcd store. Did you create your config using etcdv3 API\?'
wait_for "$T/a.out" '^timed out$'
ectl put /coreos.com/network/config '{"Network":"198.18.0.0/16","SubnetLen":31,"Backend":{"Type":"vxlan"}}' >/dev/null
wait_for "$T/a.err" 'Couldn.t fetch network config: SubnetLen must be less than /31'
ectl put /coreos.com/network/config '{"Network":"198.18.0.0/29"}' >/dev/null
wait_for "$T/a.err" 'network is too small. Minimum useful network prefix is /28'
[ "$(count "$T/a.out" '^OWN ')" = 0 ] || fail "a got a lease without a valid config"
n1=$(count "$T/a.out" '^timed out$')
[ "$n1" -ge 3 ] || fail "expected a 'timed out' line per failed round, got $n1"
ectl put /coreos.com/network/config '{"Network":"198.18.0.0/16","Backend":{"Type":"vxlan"}}' >/dev/null
wait_for "$T/a.out" '^CONFIG vxlan 198.18.0.0/16 24 198.18.1.0 198.18.255.0$'
wait_for "$T/a.out" '^PUBLISHED 0 ok$'
wait_for "$T/a.out" '^SYNCED peers=0$'

# ---- three agents, distinct subnets, b through a dead endpoint first ----
AGENT_EP="http://127.0.0.1:9,$EP" start_agent b 203.0.113.2 --vtep-mac 02:00:00:00:00:02
start_agent c 203.0.113.3 --backend host-gw
for n in b c; do wait_for "$T/$n.out" '^PUBLISHED 0 ok$'; done
sa=$(own a) sb=$(own b) sc=$(own c)
echo "subnets: a=$sa b=$sb c=$sc"
[ "$sa" != "$sb" ] && [ "$sa" != "$sc" ] && [ "$sb" != "$sc" ] || fail "subnets not distinct"
for s in $sa $sb $sc; do
	case $s in 198.18.*.0/24) ;; *) fail "subnet $s outside the network" ;; esac
done
for n in a b c; do
	grep -q "^FLANNEL_SUBNET=${sa%.0/24}.1/24\$\|^FLANNEL_SUBNET=${sb%.0/24}.1/24\$\|^FLANNEL_SUBNET=${sc%.0/24}.1/24\$" "$T/$n.env" ||
		fail "$n.env lacks its subnet"
done
ka=$(key_of "$sa") kb=$(key_of "$sb") kc=$(key_of "$sc")
want_a=$(printf '%s\n' "$kb" "$kc" | sort | tr '\n' ' ')
for _ in $(seq 1 100); do [ "$(last_peers a)" = "$want_a" ] && break; sleep 0.1; done
[ "$(last_peers a)" = "$want_a" ] || fail "a sees '$(last_peers a)', want '$want_a'"
wait_for "$T/a.out" "^PEERS .* $kc=203\.0\.113\.3,host-gw,0,-"
wait_for "$T/c.out" "$ka=203\.0\.113\.1,vxlan,1,02:00:00:00:00:01"
# the value in etcd is upstream's JSON
v=$(ectl get --print-value-only "/coreos.com/network/subnets/$ka")
[ "$v" = '{"PublicIP":"203.0.113.1","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:00:00:00:00:01"}}' ] ||
	fail "unexpected lease value: $v"
ttl=$(ectl lease timetolive "$(printf '%x' "$(ectl get -w json "/coreos.com/network/subnets/$ka" | python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["lease"])')")" | sed -n 's/.*remaining(\([0-9]*\)s).*/\1/p')
[ "$ttl" -gt 86000 ] && [ "$ttl" -le 86400 ] || fail "lease TTL $ttl is not 24 h"

# ---- b restarts and keeps its subnet (found by its public IP) ----
stop_agent b
: >"$T/b.out"
start_agent b 203.0.113.2 --vtep-mac 02:00:00:00:00:22
wait_for "$T/b.out" '^PUBLISHED 0 ok$'
[ "$(own b)" = "$sb" ] || fail "b came back with $(own b), had $sb"
grep -q "Found lease (ip: $sb ipv6: ::/0) for current IP (203.0.113.2), reusing" "$T/b.err" ||
	fail "b did not reuse its lease by public IP"
# the others see the new MAC
wait_for "$T/a.out" "$kb=203\.0\.113\.2,vxlan,1,02:00:00:00:00:22"

# ---- d: short TTL, renewed; killed, its lease expires; back with a new IP, same subnet ----
start_agent d 203.0.113.4 --vtep-mac 02:00:00:00:00:04 --lease-ttl 4 --renew-margin 2
wait_for "$T/d.out" '^PUBLISHED 0 ok$'
sd=$(own d)
kd=$(key_of "$sd")
wait_for "$T/d.err" 'Lease renewed, new expiration' 10
wait_for "$T/a.out" " $kd=203\.0\.113\.4,"
stop_agent d KILL
for _ in $(seq 1 100); do
	[ -z "$(ectl get --keys-only "/coreos.com/network/subnets/$kd")" ] && break
	sleep 0.1
done
[ -z "$(ectl get --keys-only "/coreos.com/network/subnets/$kd")" ] || fail "d's lease did not expire"
for _ in $(seq 1 50); do case " $(last_peers a)" in *" $kd "*) sleep 0.1 ;; *) break ;; esac; done
case " $(last_peers a)" in *" $kd "*) fail "a still has the expired $kd" ;; esac
: >"$T/d.out"
start_agent d 203.0.113.40 --vtep-mac 02:00:00:00:00:04 --lease-ttl 4 --renew-margin 2
wait_for "$T/d.out" '^PUBLISHED 0 ok$'
[ "$(own d)" = "$sd" ] || fail "d came back with $(own d) instead of $sd from subnet.env"
grep -q "Found previously leased subnet ($sd), reusing" "$T/d.err" || fail "d did not reuse subnet.env"
wait_for "$T/a.out" " $kd=203\.0\.113\.40,"

# ---- an operator deletes d's key: d shuts down like upstream ----
ectl del "/coreos.com/network/subnets/$kd" >/dev/null
wait_for "$T/d.out" '^REVOKED$'
wait_for "$T/d.err" 'Lease has been revoked. Shutting down daemon.'
set +e
wait "${PIDS[d]}"
rc=$?
set -e
unset "PIDS[d]"
[ "$rc" = 3 ] || fail "d exited with $rc after the revocation"

# ---- compaction forces a relist ----
# a is frozen while etcd restarts (its watch connection dies unseen), the
# subnets change and the history is compacted: a must resume from a
# compacted revision, re-list, and see the difference.
kill -STOP "${PIDS[a]}"
stop_etcd
start_etcd
ectl put /coreos.com/network/subnets/198.18.250.0-24 '{"PublicIP":"203.0.113.99","BackendType":"host-gw"}' >/dev/null
ectl del "/coreos.com/network/subnets/$kc" >/dev/null
rev=$(ectl get /coreos.com/network/config -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
ectl compact "$rev" >/dev/null
kill -CONT "${PIDS[a]}"
wait_for "$T/a.err" 'fell behind compaction, re-listing and resuming'
want_a=$(printf '%s\n' "$kb" 198.18.250.0-24 | sort | tr '\n' ' ')
for _ in $(seq 1 100); do [ "$(last_peers a)" = "$want_a" ] && break; sleep 0.1; done
[ "$(last_peers a)" = "$want_a" ] || fail "after the relist a sees '$(last_peers a)', want '$want_a'"
kill -USR1 "${PIDS[a]}"
wait_for "$T/a.out" '^STATS .* compactions=1 '
# c's key is gone, c learns it was revoked once its watch is back
wait_for "$T/c.out" '^REVOKED$'
unset "PIDS[c]"

# ---- etcd away for a while: nothing is forgotten, then the watch recovers ----
peers_before=$(count "$T/a.out" '^PEERS ')
stop_etcd KILL
sleep 6
kill -0 "${PIDS[a]}" && kill -0 "${PIDS[b]}" || fail "an agent died while etcd was down"
[ "$(count "$T/a.out" '^PEERS ')" = "$peers_before" ] || fail "a changed its peers while etcd was down"
wait_for "$T/a.err" 'etcd watch channel for /coreos.com/network/subnets/ closed'
start_etcd
ectl put /coreos.com/network/subnets/198.18.251.0-24 '{"PublicIP":"203.0.113.98","BackendType":"host-gw"}' >/dev/null
wait_for "$T/a.out" ' 198\.18\.251\.0-24=203\.0\.113\.98,host-gw' 20
wait_for "$T/b.out" ' 198\.18\.251\.0-24=203\.0\.113\.98,host-gw' 20
grep -q '^REVOKED' "$T/a.out" "$T/b.out" && fail "an agent lost its lease over the outage"

# ---- a second network on the same etcd: its own prefix and subnet file ----
ectl put /hostgw/network/config '{"Network":"198.19.0.0/16","Backend":{"Type":"host-gw"}}' >/dev/null
start_agent e 203.0.113.1 --prefix /hostgw/network --backend host-gw
wait_for "$T/e.out" '^SYNCED peers=0$'
case $(own e) in 198.19.*.0/24) ;; *) fail "e got $(own e) outside its network" ;; esac
grep -q '^FLANNEL_NETWORK=198.19.0.0/16$' "$T/e.env" || fail "e.env is not the second network's"
[ "$(own a)" = "$sa" ] || fail "a's lease changed"
sleep 1
grep -q "198\.19\." "$T/a.out" && fail "network 1 saw a lease of network 2"

# ---- a clean stop prints the final stats and exits 0 ----
stop_agent b
grep -q '^STATS lists=' "$T/b.out" || fail "b printed no STATS on exit"
echo "PASS"
