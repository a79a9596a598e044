# SPDX-License-Identifier: Apache-2.0
"""Turn the result files of bench/run into a Markdown report and an SVG plot.

  report.py RESULTS_DIR

RESULTS_DIR holds what bench/run wrote: machine.json, cp-<N>.json
(control_plane.py), datapath-<backend>.json (datapath.sh), restart.json
(restart.sh), cni.txt (cni.sh) and netpol.json (netpol.sh). Missing parts are reported as not run.
Writes RESULTS_DIR/results.md (also printed) and RESULTS_DIR/control-plane.svg.
Benchmarks never decide pass or fail: the "target" columns only say whether
a figure meets the goal set in the benchmark issue.
"""

import glob
import json
import math
import os
import re
import sys

# Upstream flanneld measured on this kind of machine against a real
# kube-apiserver (figures from the benchmark issue).
UPSTREAM = {"converge_s": {5000: 4.9}, "cpu_s": {5000: 3.9}, "rss_mib": {100: 40, 5000: 139},
            "add_p50_ms": 2.3, "del_p50_ms": 1.4, "add_p99_ms": 3.8, "del_p99_ms": 5.4}
TARGET = {"converge_s": 2.0, "cpu_s": 1.0, "rss_mib": 10.0, "rss_100_mib": 8.0, "p99_ms": 2.5,
          "subnet_env_s": 0.2, "vxlan": 0.8, "host-gw": 0.95, "wireguard": None}


def load(path):
    with open(path) as f:
        return json.load(f)


def fmt(v, digits=2):
    return "n/a" if v is None else "%.*f" % (digits, v)


def met(ok):
    return "yes" if ok else "**no**"


def libs_kib(mem):
    """Resident KiB of shared libraries (and the loader) in a proc_mem_kib() result."""
    return sum(v for k, v in mem.get("rss_by_mapping_kib", {}).items() if ".so" in k)


def cp_rows(d):
    rows = []
    for path in glob.glob(os.path.join(d, "cp-*.json")):
        r = load(path)
        ev = r.get("events", {})
        rows.append({"nodes": r["nodes"], "converge_s": r["converge_s"],
                     "cpu_s": r["converge_cpu_s"] + r["converge_children_cpu_s"],
                     "cpu_own_s": r["converge_cpu_s"], "rss_mib": r["converge_rss_kib"] / 1024,
                     "end_rss_mib": r["end_rss_kib"] / 1024,
                     "pss_mib": max(r.get("converge_mem", {}).get("pss_kib", 0),
                                    r.get("end_mem", {}).get("pss_kib", 0)) / 1024 or None,
                     "libs_mib": libs_kib(r.get("end_mem", {})) / 1024 or None,
                     "heap_mib": r.get("end_mem", {}).get("rss_by_mapping_kib", {}).get("[heap]", 0) / 1024 or None,
                     "subnet_env_s": r.get("subnet_env_s"),
                     "events_cpu_s": r["end_cpu_s"] + r["end_children_cpu_s"]
                     - r["converge_cpu_s"] - r["converge_children_cpu_s"],
                     "add": ev.get("add", {}), "del": ev.get("del", {})})
    return sorted(rows, key=lambda r: r["nodes"])


def control_plane_md(rows):
    out = ["## 1. Control plane (vxlan, one flanneld, N preloaded peers)", ""]
    if not rows:
        return out + ["Not run.", ""]
    out += ["| nodes | subnet.env (s) | converge (s) | CPU at convergence (s) | peak RSS (MiB) "
            "| PSS (MiB) | of RSS: libraries / heap (MiB) | add p50 / p99 (ms) "
            "| delete p50 / p99 (ms) | add / delete p50 / p99 incl. test server (ms) | CPU for the 400 events (s) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        a, d = r["add"], r["del"]
        out.append("| %d | %s | %s | %s | %s | %s | %s / %s | %s / %s | %s / %s | %s / %s, %s / %s | %s |" % (
            r["nodes"], fmt(r["subnet_env_s"], 3), fmt(r["converge_s"], 3), fmt(r["cpu_s"]),
            fmt(max(r["rss_mib"], r["end_rss_mib"]), 1), fmt(r["pss_mib"], 1), fmt(r["libs_mib"], 1),
            fmt(r["heap_mib"], 1),
            fmt(a.get("p50_ms")), fmt(a.get("p99_ms")), fmt(d.get("p50_ms")), fmt(d.get("p99_ms")),
            fmt(a.get("e2e_p50_ms")), fmt(a.get("e2e_p99_ms")), fmt(d.get("e2e_p50_ms")), fmt(d.get("e2e_p99_ms")),
            fmt(r["events_cpu_s"])))
    out += ["", "add/delete: from the test server's write of the watch event to the kernel; "
            "incl. test server: from the request to the server's control channel. "
            "Libraries / heap: resident at the end (smaps), after the first periodic check."]
    # The targets are set at 5000 nodes; larger N (the scale curve) is in the table above.
    big = next((r for r in rows if r["nodes"] == 5000), rows[-1])
    n = big["nodes"]
    peak = max(big["rss_mib"], big["end_rss_mib"])
    p99 = max(big["add"].get("p99_ms") or math.inf, big["del"].get("p99_ms") or math.inf)
    out += ["", "At %d nodes, against upstream flanneld (ratio = ours / upstream; below 1 is better):" % n, "",
            "| figure | ours | upstream | ratio | target | met |", "|---|---:|---:|---:|---:|:-:|"]

    def line(name, ours, up, target, digits=2):
        ratio = fmt(ours / up) if up else "n/a"
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            name, fmt(ours, digits), fmt(up, digits) if up else "n/a", ratio,
            "< " + fmt(target, digits) if target else "", met(ours < target) if target else ""))

    line("converge (s)", big["converge_s"], UPSTREAM["converge_s"].get(n), TARGET["converge_s"], 3)
    if big["subnet_env_s"] is not None:
        line("subnet.env written (s)", big["subnet_env_s"], None, TARGET["subnet_env_s"], 3)
    line("CPU to converge (s)", big["cpu_s"], UPSTREAM["cpu_s"].get(n), TARGET["cpu_s"])
    line("peak RSS (MiB)", peak, UPSTREAM["rss_mib"].get(n), TARGET["rss_mib"], 1)
    line("node add p50 (ms)", big["add"].get("p50_ms"), UPSTREAM["add_p50_ms"], None)
    line("node add p99 (ms)", big["add"].get("p99_ms"), UPSTREAM["add_p99_ms"], None)
    line("node delete p50 (ms)", big["del"].get("p50_ms"), UPSTREAM["del_p50_ms"], None)
    line("node delete p99 (ms)", big["del"].get("p99_ms"), UPSTREAM["del_p99_ms"], None)
    out.append("| event-to-kernel p99, worse of add/delete (ms) | %s | %s | %s | < %s | %s |" % (
        fmt(p99), fmt(max(UPSTREAM["add_p99_ms"], UPSTREAM["del_p99_ms"])),
        fmt(p99 / max(UPSTREAM["add_p99_ms"], UPSTREAM["del_p99_ms"])), fmt(TARGET["p99_ms"]),
        met(p99 < TARGET["p99_ms"])))
    small = [r for r in rows if r["nodes"] == 100]
    if small:
        s = small[0]
        rss = max(s["rss_mib"], s["end_rss_mib"])
        out.append("| peak RSS at 100 nodes (MiB) | %s | %s | %s | < %s | %s |" % (
            fmt(rss, 1), fmt(UPSTREAM["rss_mib"][100], 1), fmt(rss / UPSTREAM["rss_mib"][100]),
            fmt(TARGET["rss_100_mib"], 1), met(rss < TARGET["rss_100_mib"])))
    missing = [r["nodes"] for r in rows for k in ("add", "del") if r[k].get("reached", 0) < r[k].get("count", 0)]
    if missing:
        out += ["", "Some events never reached the kernel within 30 s at N = %s." % sorted(set(missing))]
    return out + [""]


def datapath_md(d):
    out = ["## 2. Data path (iperf3 TCP, pod to pod across two nodes, against host to host on the underlay)", ""]
    files = {os.path.basename(p)[9:-5]: load(p) for p in glob.glob(os.path.join(d, "datapath-*.json"))}
    if not files:
        return out + ["Not run.", ""]
    secs = next(iter(files.values()))["seconds"]
    reps = next(iter(files.values())).get("reps", 1)
    out += ["%d s per iperf3 run; the underlay is measured right before each pod run on the same pair of nodes; "
            "median of %d such pairs. CPU: the whole machine's busy CPU-seconds per Gbit received "
            "(other load on the machine counts too); wireguard is userspace (wireguard-go)." % (secs, reps), "",
            "| backend | streams | underlay (Gbit/s) | pod to pod (Gbit/s) | ratio | target | met | underlay / pod range "
            "(Gbit/s) | CPU s/Gbit underlay / pod |", "|---|---:|---:|---:|---:|---:|:-:|---|---|"]
    for name in ("vxlan", "vxlan-dr", "host-gw", "wireguard"):
        if name not in files:
            continue
        r = files[name]
        label = {"vxlan-dr": "vxlan DirectRouting", "wireguard": "wireguard (wireguard-go)"}.get(name, name)
        target = TARGET.get(name, TARGET["vxlan"])
        for s in ("1", "4"):
            st = r["streams"][s]
            u, p = st["underlay_bps"], st["pod_bps"]
            spread = lambda v: "%s-%s" % (fmt(min(v) / 1e9, 1), fmt(max(v) / 1e9, 1))  # noqa: E731
            cpu = "%s / %s" % (fmt(st.get("underlay_cpu_s_per_gbit")), fmt(st.get("pod_cpu_s_per_gbit")))
            if name == "wireguard":
                cpu += " (wireguard-go %s)" % fmt(st.get("wg_cpu_s_per_gbit"))
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s |" % (
                label, s, fmt(u / 1e9), fmt(p / 1e9), fmt(p / u),
                ">= " + fmt(target) if target is not None else "-",
                met(p / u >= target) if target is not None else "-",
                spread(st["underlay_samples"]), spread(st["pod_samples"]), cpu))
    return out + [""]


def restart_md(d):
    out = ["## 3. Restart disruption (flanneld on one node restarted, ping at 100/s between pods)", ""]
    paths = [(b, os.path.join(d, f)) for b, f in (("vxlan", "restart.json"),
                                                  ("wireguard (wireguard-go)", "restart-wireguard.json"))]
    paths = [(b, p) for b, p in paths if os.path.exists(p)]
    if not paths:
        return out + ["Not run.", ""]
    out += ["| backend | restarts | probes sent | lost | longest outage (ms) | kernel entries deleted |",
            "|---|---:|---:|---:|---:|---:|"]
    deleted = []
    for b, path in paths:
        r = load(path)
        out.append("| %s | %d | %d | %d (target 0: %s) | %s | %d (target 0: %s) |" % (
            b, r["cycles"], r["sent"], r["lost"], met(r["lost"] == 0), fmt(r["longest_outage_ms"], 1),
            len(r["deleted"]), met(not r["deleted"])))
        deleted += ["%s: `%s`" % (b, x) for x in r["deleted"]]
    if deleted:
        out += ["", "Deleted: " + ", ".join(deleted)]
    return out + [""]


def cni_md(d):
    out = ["## 4. CNI ADD+DEL latency (bench/cni.sh)", ""]
    path = os.path.join(d, "cni.txt")
    if not os.path.exists(path):
        return out + ["Not run.", ""]
    text = open(path).read()
    m = re.search(r"over (\d+) pods", text)
    rows = re.findall(r"^(flannel built-in|flannel -> bridge|bridge directly|veth pair alone \(ip link\))"
                      r"\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", text, re.M)
    if not m or len(rows) != 4:
        return out + ["cni.sh output not understood:", "", "```", text.strip(), "```", ""]
    out += ["%s pods, each ADD then DEL in a fresh pod namespace; the four paths interleaved." %
            m.group(1), "",
            "| path | median (ms) | p90 (ms) | min (ms) | median / bridge | ADD median (ms) | DEL median (ms) |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        out.append("| %s |" % " | ".join(row))
    out.append("")
    out.append("Target: built-in median < 10 ms: %s" % met(float(rows[0][1]) < 10))
    return out + [""]


def netpol_md(d):
    out = ["## 5. Network policy (one node's table; iperf3 between two pods isolated by every policy)", ""]
    path = os.path.join(d, "netpol.json")
    if not os.path.exists(path):
        return out + ["Not run.", ""]
    n = load(path)
    s, p = n["scale"], n["datapath"]
    worst = max(s["pod_relabel_ms"][1], s["namespace_relabel_ms"][1], s["policy_update_ms"][1])
    out += ["%d simulated pods (100 per namespace and node), %d policies; each change timed from "
            "its object to `nft -f` done." % (s["pods"], s["policies"]), "",
            "| figure | value | target |", "|---|---:|---|",
            "| pod relabel p50 / p99 (ms) | %s / %s | |" % (fmt(s["pod_relabel_ms"][0]), fmt(s["pod_relabel_ms"][1])),
            "| namespace relabel p50 / p99 (ms) | %s / %s | |" % (fmt(s["namespace_relabel_ms"][0]), fmt(s["namespace_relabel_ms"][1])),
            "| policy update p50 / p99 (ms) | %s / %s | |" % (fmt(s["policy_update_ms"][0]), fmt(s["policy_update_ms"][1])),
            "| change -> kernel, worst p99 (ms) | %s | < 100 %s |" % (fmt(worst), met(worst < 100)),
            "| first reconcile (ms) | %s | |" % fmt(s["first_reconcile_ms"]),
            "| cache bytes per pod (model / heap incl. allocator) | %s / %s | < 200 %s |" % (
                fmt(s["cache_bytes_per_pod"], 1), fmt(s["heap_bytes_per_pod"], 1), met(s["heap_bytes_per_pod"] < 200)),
            "| heap bytes per policy | %s | |" % fmt(s["heap_bytes_per_policy"], 0),
            "| iperf3 pod to pod, no table / %d policies (Gbit/s, median) | %s / %s | |" % (
                s["policies"], fmt(sorted(p["none_gbps"])[len(p["none_gbps"]) // 2]),
                fmt(sorted(p["with_gbps"])[len(p["with_gbps"]) // 2])),
            "| throughput ratio with policies | %s | >= 0.95 %s |" % (fmt(p["ratio"]), met(p["ratio"] >= 0.95)),
            ""]
    return out


def svg_plot(rows, path):
    """Four small panels against node count (log axis): ours, upstream, target."""
    panels = [("time to converge (s)", "converge_s", lambda r: r["converge_s"], TARGET["converge_s"]),
              ("CPU seconds to converge", "cpu_s", lambda r: r["cpu_s"], TARGET["cpu_s"]),
              ("peak RSS (MiB)", "rss_mib", lambda r: max(r["rss_mib"], r["end_rss_mib"]), TARGET["rss_mib"]),
              ("event-to-kernel p99 (ms)", None,
               lambda r: max(r["add"].get("p99_ms") or 0, r["del"].get("p99_ms") or 0), TARGET["p99_ms"])]
    W, H, pw, ph = 960, 300, 190, 190
    xs = sorted({100, 1000, 5000} | {r["nodes"] for r in rows})
    top = math.log10(max(xs))
    lx = lambda n, x0: x0 + 10 + (math.log10(n) - 2) / (top - 2) * (pw - 20)  # noqa: E731
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
         'font-family="sans-serif" font-size="11">' % (W, H, W, H),
         '<rect width="100%" height="100%" fill="white"/>']
    for i, (title, key, get, target) in enumerate(panels):
        x0, y0 = 50 + i * 235, 40
        ours = [(r["nodes"], get(r)) for r in rows]
        up = []
        if key:
            up = sorted(UPSTREAM[key].items())
        else:
            up = [(5000, max(UPSTREAM["add_p99_ms"], UPSTREAM["del_p99_ms"]))]
        ymax = max([v for _, v in ours + up] + [target]) * 1.15 or 1
        ly = lambda v: y0 + ph - v / ymax * ph  # noqa: E731
        o.append('<text x="%d" y="%d" font-weight="bold">%s</text>' % (x0, y0 - 12, title))
        o.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>' % (x0, y0, pw, ph))
        for k in range(5):
            v = ymax * k / 4
            o.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (x0 - 4, ly(v) + 4, "%.3g" % v))
            o.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/>' % (x0, x0 + pw, ly(v), ly(v)))
        for n in xs:
            o.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (lx(n, x0), y0 + ph + 14, n))
        o.append('<text x="%d" y="%d" text-anchor="middle">nodes</text>' % (x0 + pw // 2, y0 + ph + 28))
        o.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#2a2" stroke-dasharray="5,3"/>'
                 % (x0, x0 + pw, ly(target), ly(target)))
        if len(ours) > 1:
            o.append('<polyline fill="none" stroke="#1f5fbf" stroke-width="2" points="%s"/>'
                     % " ".join("%.1f,%.1f" % (lx(n, x0), ly(v)) for n, v in ours))
        for n, v in ours:
            o.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="#1f5fbf"><title>%d nodes: %.3g</title></circle>'
                     % (lx(n, x0), ly(v), n, v))
        for n, v in up:
            o.append('<rect x="%.1f" y="%.1f" width="7" height="7" fill="#d9480f"><title>upstream %d nodes: %.3g'
                     '</title></rect>' % (lx(n, x0) - 3.5, ly(v) - 3.5, n, v))
    ly0 = H - 22
    o.append('<circle cx="60" cy="%d" r="4" fill="#1f5fbf"/><text x="70" y="%d">this flanneld</text>' % (ly0, ly0 + 4))
    o.append('<rect x="176" y="%d" width="8" height="8" fill="#d9480f"/><text x="190" y="%d">upstream flanneld '
             '(reference figures)</text>' % (ly0 - 4, ly0 + 4))
    o.append('<line x1="440" x2="470" y1="%d" y2="%d" stroke="#2a2" stroke-dasharray="5,3"/>'
             '<text x="476" y="%d">target at 5000 nodes</text>' % (ly0, ly0, ly0 + 4))
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


def main():
    d = sys.argv[1]
    m = load(os.path.join(d, "machine.json"))
    rows = cp_rows(d)
    out = ["# flannel benchmarks", "",
           "Machine: %s, %s cores, kernel %s; flanneld %s; %s%s." % (
               m["cpu"], m["nproc"], m["kernel"], m["commit"], m["date"], " (quick mode)" if m.get("quick") else ""),
           ""]
    out += control_plane_md(rows) + datapath_md(d) + restart_md(d) + cni_md(d) + netpol_md(d)
    text = "\n".join(out)
    with open(os.path.join(d, "results.md"), "w") as f:
        f.write(text)
    if rows:
        svg_plot(rows, os.path.join(d, "control-plane.svg"))
    print(text)


if __name__ == "__main__":
    main()
