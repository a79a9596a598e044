# SPDX-License-Identifier: Apache-2.0
"""Control-plane benchmark: one flanneld (vxlan) against N preloaded peers.

The test API server runs in an underlay namespace with --preload N
--preload-annotations: N synthetic flannel nodes whose list and watch
responses it renders once, so the server's own cost stays out of the way.
The node under test is a namespace on that underlay running the real
flanneld, in-cluster style (token + CA files). nlmon.py, started in the
node's namespace before flanneld, timestamps every route, neighbour and FDB
entry as the kernel reports it.

Measured:
  converge    exec of flanneld -> the kernel holds every peer's route,
              neighbour and FDB entry (all N peers)
  subnet.env  exec of flanneld -> subnet.env exists (pods can start)
  cpu         flanneld's user+system seconds at that moment (and those of
              the programs it ran and waited for, iptables-restore etc.)
  rss         flanneld's peak RSS (VmHWM) at convergence and at the end,
              which comes after the first periodic check (10 s); PSS and
              the resident KiB of each mapping (smaps) beside it
  add/del     EVENTS node additions then EVENTS deletions at RATE per
              second through the server's control channel. Event-to-kernel
              latency (p50_ms, p99_ms, max_ms) = from the moment the server
              wrote the watch event to flanneld's watch stream (its
              --event-log) until the kernel has all three entries of that
              peer (add) or none left (delete). End-to-end latency
              (e2e_*_ms) = from sending the event to the server's control
              channel, so it also includes the test server's own handling
              of the event; server_p50_ms is that share (send -> write).
              All timestamps are CLOCK_REALTIME: nlmon.py's, the server's
              and ours.

Prints one JSON object on stdout; progress goes to stderr.

  control_plane.py --build-dir B --nodes N [--events 200] [--rate 50] [--wrap CMD]
                   [--nat-rules R]   (R kube-proxy-like rules in the node's nat table,
                                      as on a real node: iptables-save takes that long)
"""

import argparse
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
APISERVER = os.path.join(SRC, "test", "apiserver", "kube-apiserver.py")
NLMON = os.path.join(HERE, "nlmon.py")

API_IP = "203.0.113.254"
NODE_IP = "203.0.113.1"
CLUSTER_CIDR = ipaddress.ip_network("198.18.0.0/15")
MASK = 29  # 16384 blocks: room for 10000 preloaded peers, the events and the node itself
BLOCK = 1 << (32 - MASK)
BLOCKS = 1 << (MASK - CLUSTER_CIDR.prefixlen)
CLK_TCK = os.sysconf("SC_CLK_TCK")
PREFIX = "flannel.alpha.coreos.com/"
RESYNC_S = 10  # flanneld's periodic full resync


def log(msg):
    sys.stderr.write("control-plane: %s\n" % msg)
    sys.stderr.flush()


def sh(*cmd):
    subprocess.run(cmd, check=True)


def block(i):
    return ipaddress.ip_network((int(CLUSTER_CIDR.network_address) + i * BLOCK, MASK))


def proc_cpu(pid):
    """(own user+system seconds, waited-for children's user+system seconds)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime is field 14.
    ut, st, cut, cst = (int(x) for x in fields[11:15])
    return (ut + st) / CLK_TCK, (cut + cst) / CLK_TCK


def proc_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM for pid %d" % pid)


def proc_mem_kib(pid):
    """PSS (smaps_rollup) and the resident KiB of each mapping group (smaps): the
    heap, other anonymous memory, the stack and each file by its base name."""
    pss = 0
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
    groups, name = {}, None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                name = parts[5] if len(parts) > 5 else "[anon]"
                name = os.path.basename(name) if name.startswith("/") else name
            elif parts[0] == "Rss:" and int(parts[1]):
                groups[name] = groups.get(name, 0) + int(parts[1])
    return {"pss_kib": pss, "rss_by_mapping_kib": dict(sorted(groups.items(), key=lambda kv: -kv[1]))}


def pct(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, -(-len(v) * p // 100) - 1))
    return v[int(k)]


class Monitor:
    """nlmon.py in the node's namespace; keeps every line, wakes waiters."""

    def __init__(self, ns):
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, NLMON],
                                     stdout=subprocess.PIPE, text=True, bufsize=1)
        if self.proc.stdout.readline().strip() != "READY":
            raise RuntimeError("nlmon.py did not start")
        self.cond = threading.Condition()
        self.events = []  # (t_ns, op, kind, key)
        self.overrun = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            parts = line.split()
            with self.cond:
                if parts[0] == "OVERRUN":
                    self.overrun = True
                else:
                    self.events.append((int(parts[0]), parts[1], parts[2], parts[3]))
                self.cond.notify_all()

    def wait(self, pred, timeout):
        """Wait until pred(events) is true (called under the lock). Returns its value."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                r = pred(self.events)
                if r or self.overrun:
                    return r
                left = deadline - time.monotonic()
                if left <= 0:
                    return r
                self.cond.wait(left)

    def snapshot(self):
        with self.cond:
            return list(self.events)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Control:
    """One persistent connection to the server's control channel."""

    def __init__(self, state_dir):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(os.path.join(state_dir, "control.sock"))
        self.file = self.sock.makefile("rb")

    def send(self, cmd, **fields):
        self.sock.sendall(json.dumps(dict(fields, cmd=cmd)).encode() + b"\n")

    def reply(self):
        r = json.loads(self.file.readline())
        if not r.get("ok"):
            raise RuntimeError("control channel: %s" % r.get("error"))
        return r

    def call(self, cmd, **fields):
        self.send(cmd, **fields)
        return self.reply()


def peer_keys(node):
    """The (route, neigh, fdb) keys nlmon.py prints for a vxlan peer."""
    cidr = ipaddress.ip_network(node["spec"]["podCIDR"])
    mac = json.loads(node["metadata"]["annotations"][PREFIX + "backend-data"])["VtepMAC"]
    return (("route", str(cidr)), ("neigh", str(cidr.network_address)), ("fdb", mac.lower()))


class Bench:
    def __init__(self, args):
        self.args = args
        self.tag = "bcp%d-%d" % (args.nodes, os.getpid())
        self.ns_ul = self.tag + "-ul"
        self.ns = self.tag + "-n"
        self.work = tempfile.mkdtemp(prefix="bench-%s." % self.tag)
        self.state = os.path.join(self.work, "apiserver")
        self.event_log = os.path.join(self.work, "events.log")
        self.procs = []
        self.flanneld = None

    def cleanup(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for ns in (self.ns, self.ns_ul):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        if self.args.keep_logs:
            os.makedirs(self.args.keep_logs, exist_ok=True)
            for f in ("flanneld.log", "apiserver.log"):
                p = os.path.join(self.work, f)
                if os.path.exists(p):
                    shutil.copy(p, os.path.join(self.args.keep_logs, "%s-%d.log" % (f[:-4], self.args.nodes)))
        shutil.rmtree(self.work, ignore_errors=True)

    def topology(self):
        sh("ip", "netns", "add", self.ns_ul)
        sh("ip", "-n", self.ns_ul, "link", "set", "lo", "up")
        sh("ip", "-n", self.ns_ul, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.ns_ul, "link", "set", "br0", "up")
        sh("ip", "-n", self.ns_ul, "addr", "add", API_IP + "/24", "dev", "br0")
        sh("ip", "netns", "add", self.ns)
        sh("ip", "-n", self.ns_ul, "link", "add", "v1", "type", "veth", "peer", "name", "eth0", "netns", self.ns)
        sh("ip", "-n", self.ns_ul, "link", "set", "v1", "master", "br0", "up")
        sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        sh("ip", "-n", self.ns, "link", "set", "eth0", "up")
        sh("ip", "-n", self.ns, "addr", "add", NODE_IP + "/24", "dev", "eth0")
        sh("ip", "-n", self.ns, "route", "add", "default", "via", API_IP)
        if self.args.nat_rules:
            self.kube_proxy_rules(self.args.nat_rules)

    def kube_proxy_rules(self, n):
        """A nat table the size of kube-proxy's on a busy node: n rules in per-service chains."""
        lines = ["*nat", ":KUBE-SERVICES - [0:0]"]
        per = 10
        for c in range(0, n, per):
            lines.append(":KUBE-SVC-%06d - [0:0]" % c)
        lines.append("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES")
        for c in range(0, n, per):
            ip = ipaddress.ip_address("198.19.0.0") + c
            lines.append("-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment \"ns/svc-%d cluster IP\" "
                         "-m tcp --dport 80 -j KUBE-SVC-%06d" % (ip, c, c))
            for k in range(per - 1):
                lines.append("-A KUBE-SVC-%06d -m comment --comment \"ns/svc-%d\" -m statistic --mode random "
                             "--probability 0.5 -j RETURN" % (c, c))
        lines.append("COMMIT")
        subprocess.run(["ip", "netns", "exec", self.ns, "iptables-restore", "--noflush"],
                       input="\n".join(lines) + "\n", text=True, check=True)

    def apiserver(self):
        os.makedirs(self.state)
        logf = open(os.path.join(self.work, "apiserver.log"), "w")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns_ul, sys.executable, APISERVER,
                              "--state-dir", self.state, "--listen", API_IP + ":6443",
                              "--preload", str(self.args.nodes), "--preload-annotations",
                              "--cluster-cidr", str(CLUSTER_CIDR), "--node-cidr-mask", str(MASK),
                              "--event-log", self.event_log],
                             stdout=subprocess.PIPE, stderr=logf, text=True)
        self.procs.append(p)
        line = p.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError("the test API server did not start: %r" % line)

    def start_flanneld(self):
        sa = os.path.join(self.work, "sa")
        os.makedirs(sa, exist_ok=True)
        shutil.copy(os.path.join(self.state, "ca.crt"), os.path.join(sa, "ca.crt"))
        shutil.copy(os.path.join(self.state, "token-flannel"), os.path.join(sa, "token"))
        conf = os.path.join(self.work, "net-conf.json")
        with open(conf, "w") as f:
            json.dump({"Network": str(CLUSTER_CIDR), "Backend": {"Type": "vxlan"}}, f)
        env = {"PATH": os.environ["PATH"], "NODE_NAME": "bench-node", "KUBERNETES_SERVICE_HOST": API_IP,
               "KUBERNETES_SERVICE_PORT": "6443", "FLANNEL_SA_DIR": sa}
        logf = open(os.path.join(self.work, "flanneld.log"), "w")
        cmd = ["ip", "netns", "exec", self.ns] + self.args.wrap.split() + [
               os.path.join(self.args.build_dir, "cmd", "flanneld"),
               "--kube-subnet-mgr", "--ip-masq", "--net-config-path", conf,
               "--subnet-file", os.path.join(self.work, "subnet.env")] + self.args.flanneld_args.split()
        t0 = time.time_ns()
        self.flanneld = subprocess.Popen(cmd, env=env, stdout=logf, stderr=subprocess.STDOUT)
        self.procs.append(self.flanneld)
        return t0

    def converge(self, mon, peers):
        """Start flanneld; wait until every peer's three entries are in the kernel."""
        want = {k for keys in peers for k in keys}
        state = {"seen": set(), "i": 0, "last": 0}

        def done(events):
            while state["i"] < len(events):
                t, op, kind, key = events[state["i"]]
                state["i"] += 1
                if (kind, key) in want:
                    if op == "+":
                        if (kind, key) not in state["seen"]:
                            state["seen"].add((kind, key))
                            state["last"] = t
                    else:
                        state["seen"].discard((kind, key))
            return len(state["seen"]) == len(want)

        subnet_env = os.path.join(self.work, "subnet.env")
        written = {}

        def watch_subnet_env():
            while "t" not in written and time.monotonic() < deadline:
                if os.path.exists(subnet_env):
                    written["t"] = time.time_ns()
                time.sleep(0.0005)

        deadline = time.monotonic() + self.args.timeout
        t0 = self.start_flanneld()
        poller = threading.Thread(target=watch_subnet_env, daemon=True)
        poller.start()
        ok = mon.wait(done, self.args.timeout)
        poller.join()
        pid = self.flanneld.pid
        if self.flanneld.poll() is not None:
            raise RuntimeError("flanneld exited (%d) before converging; see its log" % self.flanneld.returncode)
        cpu, cpu_children = proc_cpu(pid)
        hwm = proc_hwm_kib(pid)
        if mon.overrun:
            raise RuntimeError("the netlink monitor overran: the event stream is incomplete")
        if not ok:
            kinds = {}
            for kind, _ in state["seen"]:
                kinds[kind] = kinds.get(kind, 0) + 1
            raise RuntimeError("not converged after %ds: %s of %d peers" % (self.args.timeout, kinds, len(peers)))
        self.t_start = t0
        return {"converge_s": (state["last"] - t0) / 1e9, "converge_cpu_s": cpu,
                "subnet_env_s": (written["t"] - t0) / 1e9 if "t" in written else None,
                "converge_children_cpu_s": cpu_children, "converge_rss_kib": hwm,
                "converge_mem": proc_mem_kib(pid)}

    def events(self, mon, ctl):
        """EVENTS additions then EVENTS deletions at RATE/s; per-event latency to the kernel."""
        n = self.args.events
        period = 1.0 / self.args.rate
        nodes = []
        for i in range(n):
            sub = block(BLOCKS - 2 - i)
            mac = "0a:59:00:00:%02x:%02x" % ((i + 1) >> 8, (i + 1) & 0xFF)
            ip = str(ipaddress.ip_address("100.127.254.0") + i)
            ann = {PREFIX + "backend-type": "vxlan",
                   PREFIX + "backend-data": '{"VNI":1,"VtepMAC":"%s"}' % mac,
                   PREFIX + "kube-subnet-manager": "true", PREFIX + "public-ip": ip}
            nodes.append({"name": "bench-ev-%03d" % i, "podCIDR": str(sub), "internalIP": ip, "annotations": ann,
                          "keys": (("route", str(sub)), ("neigh", str(sub.network_address)), ("fdb", mac))})
        result = {}
        for phase, op in (("add", "+"), ("del", "-")):
            sent = []
            start = time.monotonic() + 0.1
            for i, node in enumerate(nodes):
                delay = start + i * period - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                t0 = time.time_ns()
                if phase == "add":
                    ctl.send("add_node", name=node["name"], podCIDR=node["podCIDR"],
                             internalIP=node["internalIP"], annotations=node["annotations"])
                else:
                    ctl.send("delete_node", name=node["name"])
                ctl.reply()
                sent.append(t0)
            want = {k: i for i, node in enumerate(nodes) for k in node["keys"]}
            state = {"i": 0, "hits": {}}

            def done(events):
                while state["i"] < len(events):
                    t, eop, kind, key = events[state["i"]]
                    state["i"] += 1
                    i = want.get((kind, key))
                    if i is not None and eop == op and t >= sent[i] and (kind, key) not in state["hits"]:
                        state["hits"][(kind, key)] = t
                return len(state["hits"]) == len(want)

            mon.wait(done, 30)
            if mon.overrun:
                raise RuntimeError("the netlink monitor overran during the %s events" % phase)
            written = self.watch_writes("ADDED" if phase == "add" else "DELETED", nodes, sent)
            lat, e2e, server = [], [], []
            for i, node in enumerate(nodes):
                ts = [state["hits"].get(k) for k in node["keys"]]
                if None in ts:
                    continue
                e2e.append((max(ts) - sent[i]) / 1e6)
                if i in written:
                    lat.append((max(ts) - written[i]) / 1e6)
                    server.append((written[i] - sent[i]) / 1e6)
            result[phase] = {"count": n, "reached": len(e2e), "written": len(written)}
            if lat:
                result[phase].update(p50_ms=statistics.median(lat), p99_ms=pct(lat, 99), max_ms=max(lat),
                                     server_p50_ms=statistics.median(server), server_p99_ms=pct(server, 99))
            if e2e:
                result[phase].update(e2e_p50_ms=statistics.median(e2e), e2e_p99_ms=pct(e2e, 99),
                                     e2e_max_ms=max(e2e))
            log("%d nodes: %s: %d/%d events reached the kernel, %d written to the watch"
                % (self.args.nodes, phase, len(e2e), n, len(written)))
            time.sleep(0.5)
        return result

    def watch_writes(self, etype, nodes, sent):
        """node index -> when the server first wrote its etype event to a watch after it was sent."""
        index = {node["name"]: i for i, node in enumerate(nodes)}
        written = {}
        with open(self.event_log) as f:
            for line in f:
                parts = line.split()
                if len(parts) != 4 or parts[1] != etype:
                    continue
                i = index.get(parts[2])
                t = int(parts[0])
                if i is not None and i not in written and t >= sent[i]:
                    written[i] = t
        return written

    def run(self):
        self.topology()
        log("%d nodes: starting the test API server (preloading)" % self.args.nodes)
        self.apiserver()
        ctl = Control(self.state)
        ctl.call("add_node", name="bench-node", podCIDR=str(block(BLOCKS - 1)), internalIP=NODE_IP)
        peers = [peer_keys(nd) for nd in ctl.call("list_nodes")["nodes"] if nd["metadata"]["name"] != "bench-node"]
        if len(peers) != self.args.nodes:
            raise RuntimeError("the server holds %d peers, not %d" % (len(peers), self.args.nodes))
        mon = Monitor(self.ns)
        self.procs.append(mon.proc)
        log("%d nodes: starting flanneld" % self.args.nodes)
        res = {"nodes": self.args.nodes}
        res.update(self.converge(mon, peers))
        log("%d nodes: converged in %.3f s" % (self.args.nodes, res["converge_s"]))
        time.sleep(1)
        res["events"] = self.events(mon, ctl)
        # The peak must include a periodic full resync (every 10 s) with a populated kernel.
        left = self.t_start / 1e9 + RESYNC_S + 2 - time.time()
        if left > 0:
            time.sleep(left)
        cpu, cpu_children = proc_cpu(self.flanneld.pid)
        res.update(end_cpu_s=cpu, end_children_cpu_s=cpu_children, end_rss_kib=proc_hwm_kib(self.flanneld.pid),
                   end_mem=proc_mem_kib(self.flanneld.pid))
        self.flanneld.send_signal(signal.SIGTERM)
        self.flanneld.wait(20)
        return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--nodes", type=int, required=True)
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--timeout", type=int, default=120, help="seconds to wait for convergence")
    ap.add_argument("--flanneld-args", default="", help="more flanneld arguments, e.g. --v=1")
    ap.add_argument("--nat-rules", type=int, default=0,
                    help="preload this many kube-proxy-like rules into the node's nat table")
    ap.add_argument("--keep-logs", help="copy flanneld's and the server's logs into this folder")
    ap.add_argument("--wrap", default="", help="run flanneld under this command, for profiling "
                    "(e.g. \"valgrind --tool=massif --massif-out-file=/tmp/m.out\"); the figures are then "
                    "those of the wrapper")
    args = ap.parse_args()
    if not 1 <= args.nodes <= BLOCKS - 2 - args.events or not 1 <= args.events <= 255 or args.rate <= 0:
        ap.error("need 1 <= --nodes <= %d - 2 - --events, 1 <= --events <= 255, --rate > 0" % BLOCKS)
    b = Bench(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        res = b.run()
    finally:
        b.cleanup()
    json.dump(res, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
