#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The NetworkPolicy e2e harness proves itself, without any policy engine: on the
# e2e model (netpol-lib.sh: 2 nodes, namespaces x/y/z, pods a/b/c, TCP and UDP
# servers on 80 and 81) every pod reaches every pod on every port and protocol; a
# drop rule the harness puts into x/a's own namespace shows up as exactly x/a
# being unreachable on TCP 80; a wrong expectation is reported with the matrix.
# The policy cases themselves run in test-netpol-e2e.sh (they need --network-policy).
set -euo pipefail
P=sys-nph-$$
. "$(dirname "$0")/netpol-lib.sh"
trap cluster_cleanup EXIT

netpol_cluster
ok "e2e model: 9 pods on 2 nodes, serving TCP and UDP on 80 and 81"
netpol_run --settle 10 no-policies harness-sees-a-block || fail "the harness is not sound"
kctl list resource=pods >"$WORK/pods-api.json"
python3 - "$WORK/pods-api.json" "$WORK/pods.json" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["items"]
pods = json.load(open(sys.argv[2]))
got = {"%s/%s" % (p["metadata"]["namespace"], p["metadata"]["name"]): p for p in items}
assert set(got) == set(pods), (sorted(got), sorted(pods))
for key, p in got.items():
    assert p["metadata"]["labels"] == {"pod": key.split("/")[1]}, p["metadata"]
    assert p["status"]["podIPs"] == [{"ip": pods[key]["ip"]}] and p["status"]["phase"] == "Running", p["status"]
    assert p["spec"]["nodeName"] == pods[key]["node"]
    names = sorted(port["name"] for c in p["spec"]["containers"] for port in c["ports"])
    assert names == ["serve-80-tcp", "serve-80-udp", "serve-81-tcp", "serve-81-udp"], names
PY
ok "the API server holds the model's pods with labels, podIPs, nodeName and named ports"
ok "netpol e2e harness: full reachability without policies, a block and a wrong expectation detected"
