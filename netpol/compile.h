/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy compiler (pure): the model and this node's name in, the
 * desired contents of the nftables table out (state.h), plus a per-pod
 * report for `flanneld status`.
 *
 * Only this node's pods get verdicts (maps i4/i6/e4/e6), only the policies
 * selecting at least one of them get chains, and only the peer selectors
 * and named ports those chains use get sets; sets hold every matching pod of
 * the cluster. hostNetwork pods, pods without an address and finished pods
 * are matched by no selector and get no verdict.
 *
 * Rules of one policy direction (ingress shown; egress swaps saddr/daddr for
 * the peer, named ports are always the destination's):
 *   peer   none                ""   (every source)
 *          pod/ns selector     ip saddr @s<h>-4      and  ip6 saddr @s<h>-6
 *          ipBlock             ip saddr 10.0.0.0/16 ip saddr != { except... }
 *   port   none                ""   (every protocol and port)
 *          protocol only       meta l4proto udp
 *          number / range      meta l4proto tcp th dport 80 / 32000-32768
 *          named               meta l4proto tcp ip daddr . th dport @n<h>-4  (and ip6)
 * one "accept" rule per (peer, port) of matching address family.
 */
#pragma once

#include "lib/core/buf.h"
#include "netpol/model.h"
#include "netpol/state.h"

struct np_compile_stats {
	size_t local_pods;	      /* local pods with an address */
	size_t isolated[_NP_DIR_MAX]; /* local pods selected for ingress / egress */
	size_t policies_used;	      /* policies selecting at least one local pod */
	size_t bad_policies;	      /* policies with an error (in the whole model) */
	size_t sets, set_elements, chains, rules;
};

/*
 * Fill *out (empty on entry) with the desired table for node `node`. report
 * (may be NULL) gets one line per local pod:
 *   "<ns>/<name> ingress=<policy>,<policy> egress=-\n"
 * and one line per bad policy: "! <ns>/<name>: <error>\n".
 */
int np_compile(const struct np_model *m, const char *node, struct np_state *out, struct buf *report,
	       struct np_compile_stats *stats);

/*
 * What a compiled table depends on besides this node's pods and the
 * policies and namespaces themselves: the peer selectors and the named ports
 * matched against every pod of the cluster. A change of a pod elsewhere that
 * none of them matches, before or after, cannot change the table, so the
 * engine skips the compile for it. The pointers borrow from the model's
 * policies: valid until a policy changes (which recompiles anyway).
 */
struct np_refs {
	struct np_ref_sel {
		const struct np_ns *ns; /* the policy's namespace (no namespaceSelector) */
		const struct np_peer *peer;
	} * sels;
	size_t n_sels;
	struct np_ref_port {
		const char *name;
		uint8_t proto;
	} * ports; /* named ports needed on every pod (egress) */
	size_t n_ports;
};

/* np_compile() that also fills *refs (empty on entry, np_refs_done() after). */
int np_compile_refs(const struct np_model *m, const char *node, struct np_state *out,
		    struct buf *report, struct np_compile_stats *stats, struct np_refs *refs);
void np_refs_done(struct np_refs *refs);
/* Whether pod p (as it is or was) matters to a table compiled with refs for node. */
bool np_refs_pod_matters(const struct np_refs *refs, const struct np_pod *p, const char *node);
