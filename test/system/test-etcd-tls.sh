#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The etcd client over TLS with client certificates (--etcd-cafile/
# --etcd-certfile/--etcd-keyfile) and with etcd's user/password auth
# (--etcd-username/--etcd-password), against a real etcd:
#
#   +------------ private netns (unshare -n) ------------+
#   |  etcd https://127.0.0.1:2379 --client-cert-auth     |
#   |     ^ a: CA + client cert           -> lease       |
#   |     ^ b: no client cert (plain, as upstream) -> refused |
#   +----------------------------------------------------+
#   then the same data served over plain HTTP with auth on:
#         c: root/secret -> lease, survives an etcd restart (new token)
#         d: wrong password -> refused
set -euo pipefail
source "$(dirname "$0")/etcd-lib.sh"
etcd_lib_enter_netns "$@"

# ---- a CA, a server certificate for 127.0.0.1, a client certificate ----
# (etcd's JSON gateway dials etcd itself with the server certificate, so that
# one needs clientAuth too once --client-cert-auth is on)
pki=$T/pki
mkdir -p "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=flannel-test-ca \
	-keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
for who in server client; do
	openssl req -newkey rsa:2048 -nodes -subj "/CN=flannel-test-$who" \
		-keyout "$pki/$who.key" -out "$pki/$who.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=%s\n' \
		"$([ $who = server ] && echo serverAuth,clientAuth || echo clientAuth)" >"$pki/$who.ext"
	openssl x509 -req -in "$pki/$who.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
		-CAcreateserial -days 2 -extfile "$pki/$who.ext" -out "$pki/$who.crt" 2>/dev/null
done

EP=https://127.0.0.1:2379
ETCDCTL_ARGS=(--endpoints "$EP" --cacert "$pki/ca.crt" --cert "$pki/client.crt" --key "$pki/client.key")
ETCD_SCHEME=https start_etcd --cert-file "$pki/server.crt" --key-file "$pki/server.key" \
	--trusted-ca-file "$pki/ca.crt" --client-cert-auth
TLS=(--cafile "$pki/ca.crt" --certfile "$pki/client.crt" --keyfile "$pki/client.key")

ectl put /coreos.com/network/config '{"Network":"198.18.0.0/16","Backend":{"Type":"vxlan"}}' >/dev/null

# ---- a: TLS with a client certificate ----
start_agent a 203.0.113.1 --vtep-mac 02:00:00:00:00:01 "${TLS[@]}"
wait_for "$T/a.out" '^PUBLISHED 0 ok$'
grep -q 'connecting to etcd with http. This is insecure' "$T/a.err" && fail "a warned about plain http"
ka=$(key_of "$(own a)")
[ -n "$(ectl get --keys-only "/coreos.com/network/subnets/$ka")" ] || fail "a's key is not in etcd"

# ---- b: only a CA, no client certificate: upstream uses no TLS config at all ----
start_agent b 203.0.113.2 --cafile "$pki/ca.crt"
wait_for "$T/b.err" 'no certificate provided: connecting to etcd with http. This is insecure'
wait_for "$T/b.err" "Couldn't fetch network config: "
wait_for "$T/b.out" '^timed out$'
grep -q '^CONFIG' "$T/b.out" && fail "b read the config without a client certificate"
stop_agent b

# ---- c/d: user/password auth ----
# etcd 3.4's JSON gateway refuses every request that carries a client
# certificate once auth is on ("CommonName of client sending a request
# against gateway will be ignored"), so auth is tested over plain HTTP on the
# same data.
stop_agent a
stop_etcd
EP=http://127.0.0.1:2379
ETCDCTL_ARGS=(--endpoints "$EP")
start_etcd
ectl user add root:secret --interactive=false >/dev/null
ectl auth enable >/dev/null
ETCDCTL_ARGS+=(--user root:secret)
start_agent c 203.0.113.3 --vtep-mac 02:00:00:00:00:03 --username root --password secret
wait_for "$T/c.out" '^PUBLISHED 0 ok$'
wait_for "$T/c.out" "^SYNCED peers=1\$"
grep -q " $ka=203\.0\.113\.1," "$T/c.out" || fail "c does not see a"
start_agent d 203.0.113.4 --username root --password wrong
wait_for "$T/d.err" 'Failed to authenticate to etcd as "root": etcdserver: authentication failed, invalid user ID or password'
wait_for "$T/d.out" '^timed out$'
grep -q '^CONFIG' "$T/d.out" && fail "d read the config with a wrong password"
grep -q 'wrong' "$T/d.err" && fail "d logged its password"
stop_agent d

# ---- the token is renewed when etcd forgets it (restart with simple tokens) ----
stop_etcd
start_etcd
ectl put /coreos.com/network/subnets/198.18.250.0-24 '{"PublicIP":"203.0.113.99"}' >/dev/null
wait_for "$T/c.out" ' 198\.18\.250\.0-24=203\.0\.113\.99,' 20
echo "PASS"
