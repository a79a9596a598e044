#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Kubernetes e2e "Netpol" cases (netpol.md §2.1: TCP 1-42, UDP, SCTP-only
# policies isolating TCP/UDP) against flanneld --network-policy on the e2e model
# of netpol-lib.sh, in the system ring; one case or more by hand as
# BUILD_DIR=... SRC_DIR=... test/system/test-netpol-e2e.sh [CASE...] (default: all). test-netpol-harness.sh proves the harness itself.
set -euo pipefail
P=sys-np-$$
. "$(dirname "$0")/netpol-lib.sh"
trap cluster_cleanup EXIT

"$FLANNELD" --help 2>&1 | grep -- --network-policy >/dev/null ||
	fail "$FLANNELD has no --network-policy: the NetworkPolicy engine is not built in"
netpol_cluster --network-policy
ok "e2e model: 9 pods on 2 nodes, serving TCP and UDP on 80 and 81"
[ $# -gt 0 ] || set -- all
netpol_run --settle "${NETPOL_SETTLE:-10}" "$@" || fail "NetworkPolicy e2e cases failed"
ok "NetworkPolicy e2e cases passed"
