#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""System test of the Kubernetes client and kube subnet manager.

Runs test/tools/kube-agent-probe (the kube subnet manager alone on its event loop)
against test/apiserver/kube-apiserver.py on loopback and drives the server through
its control channel:

  probe --kubeconfig (tokenFile, relative CA path) --node self --page-limit 2
     |  HTTPS 127.0.0.1:<any>
  kube-apiserver.py  <-- control.sock (add/modify/delete nodes, cut, stop/start,
                                       compact, rotate_token, inject_garbage)

Checks: paginated initial list, malformed node skipped with one warning naming it,
the status PATCH (annotations + NetworkUnavailable) as upstream sends it, watch
add/modify/delete, a cut connection, a restart with compaction forcing a relist in
which a node deleted while disconnected disappears, token rotation (401 -> re-read
the token file), garbage in the watch stream, and the node name from the pod.
"""

import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SRC = os.environ.get("SRC_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BUILD_DIR", os.path.join(SRC, "build"))
sys.path.insert(0, os.path.join(SRC, "test", "apiserver"))
import control  # noqa: E402

PROBE = os.path.join(BUILD, "test", "kube-agent-probe")
P = "flannel.alpha.coreos.com/"
failures = []
passes = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    (passes if cond else failures).append(what)


def flannel_annotations(ip, mac):
    return {P + "kube-subnet-manager": "true", P + "backend-type": "vxlan",
            P + "public-ip": ip, P + "backend-data": '{"VNI":1,"VtepMAC":"%s"}' % mac}


class Probe:
    def __init__(self, args, env=None):
        self.lines = queue.Queue()
        self.all = []
        self.stderr_path = tempfile.mktemp(prefix="kube-probe-err-")
        self.err = open(self.stderr_path, "w+")
        self.proc = subprocess.Popen([PROBE] + args, stdout=subprocess.PIPE, stderr=self.err,
                                     text=True, env=env)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait(self, pred, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=max(0.05, deadline - time.time()))
            except queue.Empty:
                break
            self.all.append(line)
            if pred(line):
                return line
        return None

    def seen_or_wait(self, pred, timeout=30):
        """The first line read so far that satisfies pred, else wait for one."""
        for line in self.all:
            if pred(line):
                return line
        return self.wait(pred, timeout)

    def peers(self, timeout=30, pred=lambda d: True):
        """Wait for a PEERS line whose parsed dict satisfies pred."""
        line = self.wait(lambda l: l.startswith("PEERS ") and pred(parse_peers(l)), timeout)
        return parse_peers(line) if line else None

    def stats(self):
        self.proc.send_signal(signal.SIGUSR1)
        line = self.wait(lambda l: l.startswith("STATS "), 10)
        return dict(kv.split("=") for kv in line.split()[1:]) if line else {}

    def stderr(self):
        self.err.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def stop(self):
        if self.err.closed:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        os.unlink(self.stderr_path)


def parse_peers(line):
    out = {}
    for item in line.split()[3:]:
        name, val = item.split("=", 1)
        out[name] = val.split(",")
    return out


def main():
    tmp = tempfile.mkdtemp(prefix="kube-client-%d-" % os.getpid())
    state = os.path.join(tmp, "kas")
    server = control.ApiServer(state, extra_args=["--bookmark-interval", "2"])
    probes = []
    try:
        server.start()
        # Nodes before the probe starts: the own node, three flannel peers, one
        # plain node, one flannel node with malformed backend data.
        control.add_node(state, name="self", podCIDR="198.18.1.0/24", internalIP="203.0.113.1")
        for i in (2, 3, 4):
            control.add_node(state, name="p%d" % i, podCIDR="198.18.%d.0/24" % i,
                             internalIP="203.0.113.%d" % i,
                             annotations=flannel_annotations("203.0.113.%d" % i,
                                                             "aa:bb:cc:dd:ee:0%d" % i))
        control.add_node(state, name="plain", podCIDR="198.18.9.0/24", internalIP="203.0.113.9")
        bad = flannel_annotations("203.0.113.8", "aa:bb:cc:dd:ee:08")
        bad[P + "backend-data"] = '{"VNI":1,"VtepMAC":"not-a-mac"}'
        control.add_node(state, name="broken", podCIDR="198.18.8.0/24", internalIP="203.0.113.8",
                         annotations=bad)

        # A kubeconfig with a tokenFile and a relative CA path.
        kdir = os.path.join(tmp, "kc")
        os.makedirs(kdir)
        shutil.copy(server.ca, os.path.join(kdir, "ca.crt"))
        token_file = os.path.join(kdir, "token")
        with open(token_file, "w") as f:
            f.write(server.token("flannel") + "\n")
        kubeconfig = os.path.join(kdir, "config")
        with open(kubeconfig, "w") as f:
            f.write("""apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: ca.crt   # relative to this file
    server: %s
  name: test
contexts:
- context:
    cluster: test
    user: flannel
  name: test
current-context: test
preferences: {}
users:
- name: flannel
  user:
    tokenFile: token
""" % server.url)

        control.stats(state, reset=True)
        probe = Probe(["--kubeconfig", kubeconfig, "--node", "self", "--network",
                       "198.18.0.0/15", "--page-limit", "2", "--watch-timeout", "4",
                       "--publish-ip", "203.0.113.1", "--vtep-mac", "aa:bb:cc:dd:ee:01"])
        probes.append(probe)

        line = probe.wait(lambda l: l.startswith("SYNCED"))
        check(line == "SYNCED peers=3", "initial list: 3 peers (got %r)" % line)
        reqs = control.stats(state)["requests"]
        pages = sum(r["count"] for r in reqs if r["verb"] == "list")
        check(pages == 3, "6 nodes listed with limit=2 in 3 pages (got %d LIST requests)" % pages)
        err = probe.stderr()
        warn = [l for l in err.splitlines() if "broken" in l]
        check(len(warn) == 1 and "backend-data" in warn[0],
              "malformed node skipped with one warning naming node and field: %r" % warn)

        # The own Node is fetched ahead of the list, so the PATCH may finish
        # before or after SYNCED: look at the lines already read too.
        line = probe.seen_or_wait(lambda l: l.startswith("PUBLISHED"))
        check(line == "PUBLISHED 0", "status PATCH succeeded (%r)" % line)
        node = control.get_node(state, "self")
        anns = {k: v for k, v in node["metadata"].get("annotations", {}).items()
                if k.startswith(P)}
        check(anns == flannel_annotations("203.0.113.1", "aa:bb:cc:dd:ee:01"),
              "PATCH wrote exactly upstream's annotations: %r" % anns)
        conds = {c["type"]: c for c in node["status"].get("conditions", [])}
        nu = conds.get("NetworkUnavailable", {})
        check(nu.get("status") == "False" and nu.get("reason") == "FlannelIsUp" and
              nu.get("message") == "Flannel is running on this node" and "Ready" in conds,
              "NetworkUnavailable=False/FlannelIsUp merged by type, kubelet conditions kept")
        reqs = control.stats(state)["requests"]
        patches = [r for r in reqs if r["method"] == "PATCH"]
        check(len(patches) == 1 and patches[0]["path"].startswith("/api/v1/nodes/self/status")
              and patches[0]["count"] == 1 and patches[0]["code"] == 200,
              "one PATCH of nodes/self/status: %r" % patches)

        # Watch: add, modify, delete.
        control.add_node(state, name="p5", podCIDR="198.18.5.0/24", internalIP="203.0.113.5",
                         annotations=flannel_annotations("203.0.113.5", "aa:bb:cc:dd:ee:05"))
        d = probe.peers(pred=lambda d: "p5" in d)
        check(d is not None and d["p5"][:2] == ["198.18.5.0/24", "203.0.113.5"], "watch: ADDED")
        control.modify_node(state, "p2", annotations={P + "public-ip": "203.0.113.22"})
        d = probe.peers(pred=lambda d: d.get("p2", [None, None])[1] == "203.0.113.22")
        check(d is not None, "watch: MODIFIED public-ip")
        control.delete_node(state, "p3")
        d = probe.peers(pred=lambda d: "p3" not in d)
        check(d is not None and set(d) == {"p2", "p4", "p5"}, "watch: DELETED (%r)" %
              (d and sorted(d)))

        # Garbage in the stream: skipped, later events still arrive.
        control.inject_garbage(state)
        control.add_node(state, name="p6", podCIDR="198.18.6.0/24", internalIP="203.0.113.6",
                         annotations=flannel_annotations("203.0.113.6", "aa:bb:cc:dd:ee:06"))
        check(probe.peers(pred=lambda d: "p6" in d) is not None,
              "garbage line skipped, next event applied")

        # Connection cut mid-watch: re-watch from the last RV.
        control.cut(state)
        control.add_node(state, name="p7", podCIDR="198.18.7.0/24", internalIP="203.0.113.7",
                         annotations=flannel_annotations("203.0.113.7", "aa:bb:cc:dd:ee:07"))
        check(probe.peers(pred=lambda d: "p7" in d) is not None, "cut connection: re-watched")

        # Server down; p4 deleted meanwhile; history compacted: 410 -> relist -> p4 gone.
        before = probe.stats()
        control.stop(state, seconds=-1)
        control.delete_node(state, "p4")
        control.compact(state)
        time.sleep(2)
        control.start(state)
        d = probe.peers(timeout=60, pred=lambda d: "p4" not in d)
        check(d is not None and set(d) == {"p2", "p5", "p6", "p7"},
              "node deleted while disconnected disappears after relist (%r)" % (d and sorted(d)))
        after = probe.stats()
        check(int(after.get("relists", 0)) > int(before.get("relists", 0)),
              "compaction forced a relist (%s -> %s)" % (before.get("relists"),
                                                         after.get("relists")))

        # Token rotation: the old token gets 401, the file is re-read.
        new = "rotated%025d" % os.getpid()
        control.rotate_token(state, "flannel", token=new)
        with open(token_file + ".tmp", "w") as f:
            f.write(new)
        os.rename(token_file + ".tmp", token_file)
        control.end_watches(state)
        control.add_node(state, name="p10", podCIDR="198.18.10.0/24", internalIP="203.0.113.10",
                         annotations=flannel_annotations("203.0.113.10", "aa:bb:cc:dd:ee:10"))
        check(probe.peers(timeout=60, pred=lambda d: "p10" in d) is not None,
              "after token rotation the new token from the file is used")
        codes = {r["code"] for r in control.stats(state)["requests"]}
        check(401 in codes, "the old token was refused with 401 (codes %r)" % sorted(codes))
        check(new not in probe.stderr() and server.token("flannel") not in probe.stderr(),
              "no token in the logs")
        probe.stop()

        # Node name from the pod (no NODE_NAME).
        control.add_pod(state, "kube-flannel", "flannel-abc", "self")
        env = dict(os.environ, POD_NAME="flannel-abc", POD_NAMESPACE="kube-flannel")
        env.pop("NODE_NAME", None)
        probe2 = Probe(["--kubeconfig", kubeconfig, "--network", "198.18.0.0/15"], env=env)
        probes.append(probe2)
        line = probe2.wait(lambda l: l.startswith("OWN "))
        check(line == "OWN self 198.18.1.0/24 -", "node name from the pod's spec.nodeName (%r)"
              % line)
        probe2.stop()
    finally:
        for p in probes:
            try:
                p.stop()
            except OSError:
                pass
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print("%d passed, %d failed" % (len(passes), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
