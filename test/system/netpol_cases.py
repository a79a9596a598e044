# SPDX-License-Identifier: Apache-2.0
"""The cases of the Kubernetes e2e "Netpol" suite (netpol.md §2.1), as NetworkPolicy
objects plus the expected reachability, for netpol-e2e.py. Every case starts from the
model's initial state (no policies, labels pod=<name> and ns=<name>) and returns True
when the probed matrix matched. Numbers are those of netpol.md §2.1.

The first cases need no NetworkPolicy engine: they prove the harness itself (full
reachability without policies, a block the harness installs itself is seen exactly,
a wrong expectation is reported).
"""

import ipaddress
import subprocess

from importlib import import_module

e2e = import_module("netpol-e2e")
R = e2e.Reachability

CASES = {}


def case(name):
    def reg(fn):
        CASES[name] = fn
        return fn
    return reg


def sel(**labels):
    return {"matchLabels": labels}


def expr(key, op, *values):
    return {"matchExpressions": [{"key": key, "operator": op, "values": list(values)}]}


def ingress(pod_selector, rules, types=None):
    spec = {"podSelector": pod_selector, "ingress": rules}
    if types:
        spec["policyTypes"] = types
    return spec


def egress(pod_selector, rules):
    return {"podSelector": pod_selector, "egress": rules, "policyTypes": ["Egress"]}


def only_from(t, allowed, **kw):
    """Everything into t is blocked except from the allowed sources."""
    r = R().deny(None, t, **kw)
    for f in allowed:
        r.allow(f, t, **kw)
    return r


def pods_of(*namespaces):
    return ["%s/%s" % (ns, p) for ns in namespaces for p in e2e.PODS]


# ---------------------------------------------------------------------------- harness

@case("no-policies")
def no_policies(m, settle):
    return m.check("no policies: everything reachable", R(), settle)


def netns_name(m, pod):
    return m.pods[pod]["netns"].rsplit("/", 1)[1]


@case("harness-sees-a-block")
def harness_block(m, settle):
    """A drop rule the harness puts into x/a's own namespace must show up exactly as
    x/a being unreachable on TCP 80, and a wrong expectation must be reported."""
    ns = netns_name(m, "x/a")
    subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], check=True, text=True,
                   input="table inet netpol_e2e_harness {\n chain in {\n"
                         "  type filter hook input priority 0; policy accept;\n  tcp dport 80 drop\n }\n}\n")
    try:
        ok = m.check("harness: a drop rule in x/a blocks TCP 80 into x/a, nothing else",
                     R().deny(None, "x/a", port=80, proto="TCP"), 0)
        print("     (the next FAIL is expected: the harness must report a wrong expectation)")
        wrong = m.check("harness: the same block against a wrong expectation", R(), 0)
        if wrong:
            print("FAIL harness: a wrong expectation was not reported")
        return ok and not wrong
    finally:
        subprocess.run(["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "netpol_e2e_harness"],
                       check=True)


# ---------------------------------------------------------------------------- TCP (1-42)

@case("01-default-deny-ingress")
def c01(m, settle):
    m.policy("x", "deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]})
    return m.check("01 default-deny-ingress", R().deny(None, "x/"), settle)


@case("02-default-deny-all")
def c02(m, settle):
    m.policy("x", "deny-all", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    return m.check("02 default-deny-all", R().deny(None, "x/").deny("x/", None), settle)


@case("03-pod-selector-same-namespace")
def c03(m, settle):
    m.policy("x", "x-a-from-x-b", ingress(sel(pod="a"), [{"from": [{"podSelector": sel(pod="b")}]}]))
    return m.check("03 x/a only from x/b", only_from("x/a", ["x/b"]), settle)


@case("04-ingress-for-a-target")
def c04(m, settle):
    m.policy("x", "deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]})
    m.policy("x", "allow-x-a", ingress(sel(pod="a"), [{}]))
    return m.check("04 deny x, allow all into x/a", R().deny(None, "x/").allow(None, "x/a"), settle)


@case("05-ingress-from-all-namespaces")
def c05(m, settle):
    m.policy("x", "x-a-from-all-ns", ingress(sel(pod="a"), [{"from": [{"namespaceSelector": {}}]}]))
    return m.check("05 x/a from every namespace", R(), settle)


@case("06-namespace-selector")
def c06(m, settle):
    m.policy("x", "x-a-from-y", ingress(sel(pod="a"), [{"from": [{"namespaceSelector": sel(ns="y")}]}]))
    return m.check("06 x/a only from namespace y", only_from("x/a", pods_of("y")), settle)


@case("07-pod-selector-match-expressions")
def c07(m, settle):
    m.policy("x", "x-a-from-b-expr", ingress(sel(pod="a"), [{"from": [{"podSelector": expr("pod", "In", "b")}]}]))
    return m.check("07 x/a from pod In (b)", only_from("x/a", ["x/b"]), settle)


@case("08-namespace-selector-match-expressions")
def c08(m, settle):
    m.policy("x", "x-a-from-y-expr",
             ingress(sel(pod="a"), [{"from": [{"namespaceSelector": expr("ns", "In", "y")}]}]))
    return m.check("08 x/a from ns In (y)", only_from("x/a", pods_of("y")), settle)


@case("09-pod-or-namespace-selector")
def c09(m, settle):
    m.policy("x", "x-a-or", ingress(sel(pod="a"), [{"from": [{"namespaceSelector": expr("ns", "NotIn", "x")},
                                                               {"podSelector": sel(pod="b")}]}]))
    return m.check("09 x/a from ns NotIn (x) OR pod=b", only_from("x/a", pods_of("y", "z") + ["x/b"]), settle)


@case("10-pod-and-namespace-selector")
def c10(m, settle):
    m.policy("x", "x-a-and", ingress(sel(pod="a"), [{"from": [{"namespaceSelector": expr("ns", "NotIn", "x"),
                                                                "podSelector": sel(pod="b")}]}]))
    return m.check("10 x/a from ns NotIn (x) AND pod=b", only_from("x/a", ["y/b", "z/b"]), settle)


@case("11-multiple-pod-and-namespace-selectors")
def c11(m, settle):
    m.policy("x", "x-a-multi", ingress(sel(pod="a"), [{"from": [{"namespaceSelector": expr("ns", "NotIn", "x"),
                                                                  "podSelector": expr("pod", "In", "b", "c")}]}]))
    return m.check("11 x/a from ns NotIn (x) AND pod In (b, c)",
                   only_from("x/a", ["y/b", "y/c", "z/b", "z/c"]), settle)


@case("12-any-pod-selectors")
def c12(m, settle):
    m.policy("x", "x-a-b-or-c", ingress(sel(pod="a"), [{"from": [{"podSelector": sel(pod="b")},
                                                                   {"podSelector": sel(pod="c")}]}]))
    return m.check("12 x/a from pod=b OR pod=c", only_from("x/a", ["x/b", "x/c"]), settle)


def pod_in_other_namespace(m, settle, what, proto=None):
    m.policy("x", "x-a-from-y-a", ingress(sel(pod="a"), [{"from": [{"namespaceSelector": sel(ns="y"),
                                                                     "podSelector": sel(pod="a")}]}]))
    return m.check(what, only_from("x/a", ["y/a"]), settle)


@case("13-pod-in-other-namespace")
def c13(m, settle):
    return pod_in_other_namespace(m, settle, "13 x/a only from y/a")


@case("14-ports")
def c14(m, settle):
    m.policy("x", "x-a-from-y-on-81", ingress(sel(pod="a"), [{"from": [{"namespaceSelector": sel(ns="y")}],
                                                               "ports": [{"port": 81, "protocol": "TCP"}]}]))
    return m.check("14 x/a only from y, TCP 81",
                   R().deny(None, "x/a").allow("y/", "x/a", port=81, proto="TCP"), settle)


@case("15-stacked-policies")
def c15(m, settle):
    ok = c14(m, settle)
    m.policy("x", "x-a-from-y-on-80", ingress(sel(pod="a"), [{"from": [{"namespaceSelector": sel(ns="y")}],
                                                               "ports": [{"port": 80, "protocol": "TCP"}]}]))
    return m.check("15 stacked: x/a from y on TCP 80 and 81",
                   R().deny(None, "x/a").allow("y/", "x/a", proto="TCP"), settle) and ok


@case("16-allow-all")
def c16(m, settle):
    m.policy("x", "allow-all", ingress({}, [{}]))
    return m.check("16 allow-all", R(), settle)


@case("17-named-port")
def c17(m, settle):
    m.policy("x", "allow-81-named", ingress({}, [{"ports": [{"port": "serve-81-tcp"}]}]))
    return m.check("17 x only on serve-81-tcp", R().deny(None, "x/").allow(None, "x/", port=81, proto="TCP"),
                   settle)


@case("18-namespace-and-named-port")
def c18(m, settle):
    m.policy("x", "allow-y-80-named", ingress({}, [{"from": [{"namespaceSelector": sel(ns="y")}],
                                                   "ports": [{"port": "serve-80-tcp"}]}]))
    return m.check("18 x only from y on serve-80-tcp",
                   R().deny(None, "x/").allow("y/", "x/", port=80, proto="TCP"), settle)


@case("19-egress-named-port")
def c19(m, settle):
    m.policy("x", "egress-80-named", egress({}, [{"ports": [{"port": "serve-80-tcp"}]}]))
    return m.check("19 x egress only to serve-80-tcp",
                   R().deny("x/", None).allow("x/", None, port=80, proto="TCP"), settle)


@case("20-updated-policy")
def c20(m, settle):
    m.policy("x", "allow-all-mutate-to-deny-all", ingress({}, [{}]))
    ok = m.check("20 allow-all before the update", R(), settle)
    m.policy("x", "allow-all-mutate-to-deny-all", {"podSelector": {}, "policyTypes": ["Ingress"]})
    return m.check("20 deny-all after the update", R().deny(None, "x/"), settle) and ok


@case("21-updated-namespace")
def c21(m, settle):
    m.policy("x", "x-a-from-ns2", ingress(sel(pod="a"), [{"from": [{"namespaceSelector": sel(ns2="updated")}]}]))
    ok = m.check("21 x/a from nothing before the label", only_from("x/a", []), settle)
    m.label_namespace("y", {"ns2": "updated"})
    return m.check("21 x/a from y once y is labelled", only_from("x/a", pods_of("y")), settle) and ok


@case("22-updated-pod")
def c22(m, settle):
    m.policy("x", "x-a-from-pod2", ingress(sel(pod="a"), [{"from": [{"podSelector": sel(pod2="updated")}]}]))
    ok = m.check("22 x/a from nothing before the label", only_from("x/a", []), settle)
    m.label_pod("x/b", {"pod2": "updated"})
    return m.check("22 x/a from x/b once x/b is labelled", only_from("x/a", ["x/b"]), settle) and ok


@case("23-deny-other-namespaces")
def c23(m, settle):
    m.policy("x", "same-namespace-only", ingress({}, [{"from": [{"podSelector": {}}]}]))
    return m.check("23 x only from x", R().deny(None, "x/").allow("x/", "x/"), settle)


@case("24-updated-target-pod")
def c24(m, settle):
    m.policy("x", "deny-pod2", {"podSelector": sel(pod2="updated"), "policyTypes": ["Ingress"]})
    ok = m.check("24 nothing selected before the label", R(), settle)
    m.label_pod("x/a", {"pod2": "updated"})
    return m.check("24 x/a isolated once labelled", R().deny(None, "x/a"), settle) and ok


@case("25-deny-egress-pod")
def c25(m, settle):
    m.policy("x", "deny-egress-x-a", egress(sel(pod="a"), []))
    return m.check("25 no egress from x/a", R().deny("x/a", None), settle)


@case("26-deny-egress-namespace")
def c26(m, settle):
    m.policy("x", "deny-egress-x", egress({}, []))
    return m.check("26 no egress from x", R().deny("x/", None), settle)


@case("27-ingress-and-egress")
def c27(m, settle):
    m.policy("x", "x-a-both", {"podSelector": sel(pod="a"), "ingress": [{"from": [{"podSelector": sel(pod="b")}]}],
                               "egress": [{"ports": [{"port": 80}]}], "policyTypes": ["Ingress", "Egress"]})
    want = only_from("x/a", ["x/b"]).deny("x/a", None).allow("x/a", None, port=80, proto="TCP")
    return m.check("27 x/a: in from x/b, out on TCP 80 only", want, settle)


@case("28-client-side-egress-deny")
def c28(m, settle):
    m.policy("x", "x-a-egress-to-y", egress(sel(pod="a"), [{"to": [{"namespaceSelector": sel(ns="y")}]}]))
    m.policy("z", "z-a-from-x-a", ingress(sel(pod="a"), [{"from": [{"namespaceSelector": sel(ns="x"),
                                                                     "podSelector": sel(pod="a")}]}]))
    # z/a admits only x/a, but x/a may send only to y: the client side wins
    want = R().deny("x/a", None).allow("x/a", "y/").deny(None, "z/a")
    return m.check("28 egress deny on the client side beats an ingress allow", want, settle)


@case("29-egress-pod-and-namespace")
def c29(m, settle):
    m.policy("x", "x-a-to-y-b", egress(sel(pod="a"), [{"to": [{"namespaceSelector": sel(ns="y"),
                                                                "podSelector": sel(pod="b")}]}]))
    return m.check("29 x/a egress only to y/b", R().deny("x/a", None).allow("x/a", "y/b"), settle)


@case("30-any-port-one-protocol")
def c30(m, settle):
    m.policy("x", "x-a-tcp-only", ingress(sel(pod="a"), [{"ports": [{"protocol": "TCP"}]}]))
    return m.check("30 x/a: any TCP port, no UDP", R().deny(None, "x/a", proto="UDP"), settle)


@case("31-ingress-allow-all-precedence")
def c31(m, settle):
    m.policy("x", "x-a-80", ingress(sel(pod="a"), [{"ports": [{"port": 80}]}]))
    ok = m.check("31 x/a only on TCP 80", R().deny(None, "x/a").allow(None, "x/a", port=80, proto="TCP"), settle)
    m.policy("x", "x-a-all", ingress(sel(pod="a"), [{}]))
    return m.check("31 the allow-all ingress policy takes precedence", R(), settle) and ok


@case("32-egress-allow-all-precedence")
def c32(m, settle):
    m.policy("x", "x-a-egress-80", egress(sel(pod="a"), [{"ports": [{"port": 80}]}]))
    ok = m.check("32 x/a out only on TCP 80", R().deny("x/a", None).allow("x/a", None, port=80, proto="TCP"),
                 settle)
    m.policy("x", "x-a-egress-all", egress(sel(pod="a"), [{}]))
    return m.check("32 the allow-all egress policy takes precedence", R(), settle) and ok


@case("33-deleted-policy")
def c33(m, settle):
    m.policy("x", "deny-all", {"podSelector": {}, "policyTypes": ["Ingress"]})
    ok = m.check("33 deny-all in x", R().deny(None, "x/"), settle)
    m.delete_policy("x", "deny-all")
    return m.check("33 nothing enforced after the delete", R(), settle) and ok


def host_cidr(ip):
    return "%s/%d" % (ip, 32 if ipaddress.ip_address(ip).version == 4 else 128)


@case("34-egress-cidr")
def c34(m, settle):
    m.policy("x", "x-a-to-x-b-ip", egress(sel(pod="a"), [{"to": [{"ipBlock": {"cidr": host_cidr(m.pods["x/b"]["ip"])}}]}]))
    return m.check("34 x/a egress only to x/b's address", R().deny("x/a", None).allow("x/a", "x/b"), settle)


def subnet_of(m, pod):
    return str(ipaddress.ip_network(m.pods[pod]["ip"] + "/24", strict=False))


def in_subnet(m, net):
    return [p for p in m.pods if ipaddress.ip_address(m.pods[p]["ip"]) in ipaddress.ip_network(net)]


@case("35-egress-cidr-except")
def c35(m, settle):
    net = subnet_of(m, "x/b")
    m.policy("x", "x-a-to-cidr-except", egress(sel(pod="a"), [{"to": [{"ipBlock": {
        "cidr": net, "except": [host_cidr(m.pods["x/b"]["ip"])]}}]}]))
    want = R().deny("x/a", None)
    for p in in_subnet(m, net):
        if p not in ("x/a", "x/b"):
            want.allow("x/a", p)
    return m.check("35 x/a egress to x/b's /24 except x/b", want, settle)


@case("36-cidr-and-except-overlap")
def c36(m, settle):
    ok = c35(m, settle)
    m.policy("x", "x-a-to-cidr-except", egress(sel(pod="a"), [{"to": [{"ipBlock": {
        "cidr": host_cidr(m.pods["x/b"]["ip"])}}]}]))
    return m.check("36 the replaced policy allows x/b again, and only x/b",
                   R().deny("x/a", None).allow("x/a", "x/b"), settle) and ok


@case("37-ingress-egress-independent")
def c37(m, settle):
    m.policy("x", "x-a-deny-ingress", {"podSelector": sel(pod="a"), "policyTypes": ["Ingress"]})
    m.policy("x", "x-a-egress-to-x-b", egress(sel(pod="a"), [{"to": [{"podSelector": sel(pod="b")}]}]))
    return m.check("37 x/a: no ingress; egress only to x/b",
                   R().deny(None, "x/a").deny("x/a", None).allow("x/a", "x/b"), settle)


@case("38-sctp-is-not-tcp")
def c38(m, settle):
    m.policy("x", "x-a-sctp-80", ingress(sel(pod="a"), [{"ports": [{"protocol": "SCTP", "port": 80}]}]))
    return m.check("38 an SCTP-only policy isolates x/a for TCP and UDP", R().deny(None, "x/a"), settle)


@case("39-sctp-policy-isolates")
def c39(m, settle):
    m.policy("x", "x-a-sctp", ingress(sel(pod="a"), [{"ports": [{"protocol": "SCTP"}]}]))
    return m.check("39 a policy allowing only SCTP isolates x/a", R().deny(None, "x/a"), settle)


@case("40-udp-only-policy")
def c40(m, settle):
    m.policy("x", "x-a-udp-81", ingress(sel(pod="a"), [{"ports": [{"protocol": "UDP", "port": 81}]}]))
    return m.check("40 x/a only on UDP 81", R().deny(None, "x/a").allow(None, "x/a", port=81, proto="UDP"), settle)


@case("41-default-namespace-label")
def c41(m, settle):
    m.policy("x", "x-a-from-y-by-name", ingress(sel(pod="a"), [{"from": [{"namespaceSelector": sel(
        **{"kubernetes.io/metadata.name": "y"})}]}]))
    return m.check("41 x/a from y by kubernetes.io/metadata.name", only_from("x/a", pods_of("y")), settle)


@case("42-default-namespace-label-expressions")
def c42(m, settle):
    m.policy("x", "x-a-not-to-y", egress(sel(pod="a"), [{"to": [{"namespaceSelector": expr(
        "kubernetes.io/metadata.name", "NotIn", "y")}]}]))
    return m.check("42 x/a egress to every namespace but y", R().deny("x/a", "y/"), settle)


# ---------------------------------------------------------------------------- UDP and SCTP

@case("udp-default-deny-ingress")
def u1(m, settle):
    return c01(m, settle)  # the same policy; the matrix is probed on UDP too


@case("udp-ports")
def u2(m, settle):
    m.policy("x", "x-a-from-y-on-udp-81", ingress(sel(pod="a"), [{"from": [{"namespaceSelector": sel(ns="y")}],
                                                                   "ports": [{"port": 81, "protocol": "UDP"}]}]))
    return m.check("udp x/a only from y, UDP 81",
                   R().deny(None, "x/a").allow("y/", "x/a", port=81, proto="UDP"), settle)


@case("udp-pod-in-other-namespace")
def u3(m, settle):
    return pod_in_other_namespace(m, settle, "udp x/a only from y/a")


@case("sctp-ports")
def s1(m, settle):
    m.policy("x", "x-a-from-y-on-sctp-81", ingress(sel(pod="a"), [{"from": [{"namespaceSelector": sel(ns="y")}],
                                                                    "ports": [{"port": 81, "protocol": "SCTP"}]}]))
    return m.check("sctp an SCTP-only Ports policy still isolates x/a for TCP and UDP", R().deny(None, "x/a"), settle)


HARNESS = ["no-policies", "harness-sees-a-block"]
