#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The Kubernetes e2e "Netpol" model against a cluster of network namespaces.

Namespaces x, y, z (labels ns=<name>, plus kubernetes.io/metadata.name from the API
server) with pods a, b, c each (label pod=<name>), every pod a real network namespace
wired by the flannel CNI plugin on one of the nodes, serving TCP and UDP on ports 80
and 81 (one container per port and protocol, container ports named serve-80-tcp,
serve-81-udp ... as the e2e suite names them). The reachability matrix is probed from
every pod to every pod on every port and protocol at once (non-blocking sockets, each
created inside the source pod's namespace with setns(2)), and compared with the
expected truth table; on a mismatch it is probed once more, then the e2e-style matrix
is printed. See netpol.md §2.1 for the cases.

  netpol-e2e.py serve NAME                       the pod's servers (run inside the pod)
  netpol-e2e.py run --state DIR --pods FILE CASE...   register the model, run cases

FILE: JSON {"x/a": {"netns": "...", "node": "node-1", "ip": "198.18.1.2"}, ...}.
Exit status 0 when every case matched.
"""

import argparse
import ctypes
import errno
import json
import os
import selectors
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "apiserver"))
import control  # noqa: E402

NAMESPACES = ("x", "y", "z")
PODS = ("a", "b", "c")
PORTS = (80, 81)
PROTOCOLS = ("TCP", "UDP")
PROBE_TIMEOUT = 1.0
CLONE_NEWNET = 0x40000000


# ----------------------------------------------------------------------------- servers

def serve(name, lifetime):
    """TCP and UDP on 80 and 81: a TCP connection gets NAME and is closed, a UDP datagram
    is answered with NAME. Bounded: exits after lifetime seconds."""
    sel = selectors.DefaultSelector()
    for port in PORTS:
        for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            t = socket.socket(fam, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            t.bind((addr, port))
            t.listen(64)
            t.setblocking(False)
            sel.register(t, selectors.EVENT_READ, "tcp")
            u = socket.socket(fam, socket.SOCK_DGRAM)
            if fam == socket.AF_INET6:
                u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            u.bind((addr, port))
            u.setblocking(False)
            sel.register(u, selectors.EVENT_READ, "udp")
    reply = name.encode() + b"\n"
    print("SERVING", name, flush=True)
    end = time.monotonic() + lifetime
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            try:
                if key.data == "tcp":
                    c, _ = s.accept()
                    c.settimeout(0.5)
                    c.sendall(reply)
                    c.close()
                else:
                    _, peer = s.recvfrom(512)
                    s.sendto(reply, peer)
            except OSError:
                pass


# ----------------------------------------------------------------------------- probing

_libc = ctypes.CDLL("libc.so.6", use_errno=True)


class NetNS:
    """Enter a network namespace for this thread; back to the original one on exit."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns %s" % self.path)
        finally:
            os.close(fd)

    def __exit__(self, *exc):
        try:
            if _libc.setns(self.orig, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(self.orig)


def probe_all(pods, timeout=PROBE_TIMEOUT):
    """{(src, dst, port, proto): bool} for every ordered pair of distinct pods."""
    sel = selectors.DefaultSelector()
    result = {}
    pending = {}
    for src, sp in pods.items():
        with NetNS(sp["netns"]):
            for dst, dp in pods.items():
                if src == dst:
                    continue
                for port in PORTS:
                    for proto in PROTOCOLS:
                        key = (src, dst, port, proto)
                        result[key] = False
                        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "TCP" else socket.SOCK_DGRAM)
                        s.setblocking(False)
                        if proto == "TCP":
                            e = s.connect_ex((dp["ip"], port))
                            if e not in (0, errno.EINPROGRESS):
                                s.close()
                                continue
                        else:
                            try:
                                s.connect((dp["ip"], port))
                                s.send(b"?")
                            except OSError:
                                s.close()
                                continue
                        sel.register(s, selectors.EVENT_READ, key)
                        pending[s] = key
    end = time.monotonic() + timeout
    want = {key: pods[key[1]]["name"].encode() for key in result}
    while pending and time.monotonic() < end:
        for k, _ in sel.select(timeout=max(0, end - time.monotonic())):
            s, key = k.fileobj, k.data
            try:
                data = s.recv(512)
            except OSError:
                data = b""
            # the answer must come from the pod we aimed at (its name), not from anywhere
            result[key] = data.strip() == want[key]
            sel.unregister(s)
            s.close()
            del pending[s]
    for s in pending:
        s.close()
    return result


# ----------------------------------------------------------------------------- expectations

class Reachability:
    """The e2e truth table: (from, to) per (port, protocol), all True to begin with."""

    def __init__(self, default=True):
        self.m = {}
        for f in all_pods():
            for t in all_pods():
                if f != t:
                    for port in PORTS:
                        for proto in PROTOCOLS:
                            self.m[(f, t, port, proto)] = default

    def set(self, f=None, t=None, value=False, port=None, proto=None):
        """Set every entry matching the given source/destination pods, ports, protocols.
        f and t: a pod "x/a", a namespace "x/", or None for all."""
        for key in self.m:
            kf, kt, kport, kproto = key
            if (f is None or kf == f or (f.endswith("/") and kf.startswith(f))) and \
               (t is None or kt == t or (t.endswith("/") and kt.startswith(t))) and \
               (port is None or kport == port) and (proto is None or kproto == proto):
                self.m[key] = value
        return self

    def allow(self, f=None, t=None, **kw):
        return self.set(f, t, True, **kw)

    def deny(self, f=None, t=None, **kw):
        return self.set(f, t, False, **kw)


def all_pods():
    return ["%s/%s" % (ns, p) for ns in NAMESPACES for p in PODS]


def render(got, want, port, proto):
    """The e2e matrix for one port/protocol: . reachable, X blocked; * marks a mismatch."""
    pods = all_pods()
    lines = ["%s/%d:" % (proto, port), "-\t" + "\t".join(pods)]
    for f in pods:
        row = [f]
        for t in pods:
            if f == t:
                row.append("-")
                continue
            k = (f, t, port, proto)
            row.append(("." if got[k] else "X") + ("" if got[k] == want[k] else "*"))
        lines.append("\t".join(row))
    return "\n".join(lines)


def mismatches(got, want):
    return sorted(k for k in want if got.get(k) != want[k])


# ----------------------------------------------------------------------------- the model

def container_ports():
    return [{"name": "cont-%d-%s" % (port, proto.lower()), "image": "netpol-e2e-server",
             "ports": [{"name": "serve-%d-%s" % (port, proto.lower()), "containerPort": port, "protocol": proto}]}
            for port in PORTS for proto in PROTOCOLS]


class Model:
    def __init__(self, state, pods):
        self.state = state
        self.pods = pods

    def create(self):
        for ns in NAMESPACES:
            control.request(self.state, "add_namespace", name=ns, labels={"ns": ns})
        for key, p in sorted(self.pods.items()):
            ns, name = key.split("/")
            control.request(self.state, "create", resource="pods", namespace=ns, object={
                "metadata": {"name": name, "labels": {"pod": name}},
                "spec": {"nodeName": p["node"], "containers": container_ports()}})
            control.request(self.state, "patch", resource="pods", namespace=ns, name=name, status=True,
                            patch={"status": {"phase": "Running", "hostIP": p["hostIP"], "podIP": p["ip"],
                                              "podIPs": [{"ip": p["ip"]}]}})

    def policies(self):
        return [(o["metadata"]["namespace"], o["metadata"]["name"])
                for o in control.request(self.state, "list", resource="networkpolicies")["items"]]

    def reset(self):
        """Back to the model's initial state: no policies, the initial labels."""
        for ns, name in self.policies():
            control.request(self.state, "delete", resource="networkpolicies", namespace=ns, name=name)
        for ns in NAMESPACES:
            obj = control.request(self.state, "get", resource="namespaces", name=ns)["object"]
            labels = {k: None for k in obj["metadata"].get("labels", {}) if k != "kubernetes.io/metadata.name"}
            labels["ns"] = ns
            control.request(self.state, "patch", resource="namespaces", name=ns, labels=labels)
            for p in PODS:
                obj = control.request(self.state, "get", resource="pods", namespace=ns, name=p)["object"]
                labels = {k: None for k in obj["metadata"].get("labels", {})}
                labels["pod"] = p
                control.request(self.state, "patch", resource="pods", namespace=ns, name=p, labels=labels)

    def policy(self, ns, name, spec):
        """Create or replace a NetworkPolicy."""
        if (ns, name) in self.policies():
            control.request(self.state, "delete", resource="networkpolicies", namespace=ns, name=name)
        control.request(self.state, "create", resource="networkpolicies", namespace=ns,
                        object={"metadata": {"name": name}, "spec": spec})

    def delete_policy(self, ns, name):
        control.request(self.state, "delete", resource="networkpolicies", namespace=ns, name=name)

    def label_pod(self, pod, labels):
        ns, name = pod.split("/")
        control.request(self.state, "patch", resource="pods", namespace=ns, name=name, labels=labels)

    def label_namespace(self, ns, labels):
        control.request(self.state, "patch", resource="namespaces", name=ns, labels=labels)

    def check(self, case, want, settle):
        """Probe until the matrix matches (the agent applies changes asynchronously) or
        settle seconds have passed; then once more, as the e2e suite does."""
        probe_pods = {k: dict(v, name=k.split("/")[1]) for k, v in self.pods.items()}
        end = time.monotonic() + settle
        while True:
            got = probe_all(probe_pods)
            if not mismatches(got, want.m) or time.monotonic() > end:
                break
        if mismatches(got, want.m):
            got = probe_all(probe_pods)
        bad = mismatches(got, want.m)
        if bad:
            print("FAIL %s: %d of %d entries differ from the expected reachability" % (case, len(bad), len(want.m)))
            for port in PORTS:
                for proto in PROTOCOLS:
                    if any(k[2] == port and k[3] == proto for k in bad):
                        print(render(got, want.m, port, proto))
            return False
        print("ok   %s" % case, flush=True)
        return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("name")
    s.add_argument("--lifetime", type=float, default=1800)
    r = sub.add_parser("run")
    r.add_argument("--state", required=True)
    r.add_argument("--pods", required=True)
    r.add_argument("--settle", type=float, default=10, help="seconds a case may take to converge")
    r.add_argument("--no-create", action="store_true", help="the model objects exist already")
    r.add_argument("cases", nargs="+", help="case names (netpol_cases.CASES), or 'all'")
    args = ap.parse_args()
    if args.cmd == "serve":
        serve(args.name, args.lifetime)
        return 0
    import netpol_cases
    with open(args.pods) as f:
        pods = json.load(f)
    model = Model(args.state, pods)
    if not args.no_create:
        model.create()
    names = list(netpol_cases.CASES) if args.cases == ["all"] else args.cases
    failed = []
    t0 = time.monotonic()
    for name in names:
        fn = netpol_cases.CASES.get(name)
        if fn is None:
            print("unknown case %r" % name, file=sys.stderr)
            return 2
        model.reset()
        if not fn(model, args.settle):
            failed.append(name)
    print("%d of %d cases passed in %.1f s" % (len(names) - len(failed), len(names), time.monotonic() - t0))
    if failed:
        print("failed: " + " ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
