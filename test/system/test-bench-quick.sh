#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Smoke run of the benchmarks (bench/run --quick): every benchmark must run
# to the end and the report must hold a figure for each of them, and the
# plot must be well-formed SVG with our data points. The figures themselves
# decide nothing: benchmarks never pass or fail a build.
set -euo pipefail
: "${BUILD_DIR:?BUILD_DIR must be set}"
: "${SRC_DIR:?SRC_DIR must be set}"
out=$(mktemp -d /tmp/test-bench-quick.XXXXXX)
trap 'rm -rf "$out"' EXIT

"$SRC_DIR/bench/run" --quick --no-build --out "$out" >"$out/stdout" 2>"$out/stderr" || {
	cat "$out/stderr" >&2
	echo "FAIL: bench/run --quick did not run every benchmark" >&2
	exit 1
}

python3 - "$out" <<'PY'
import json, os, re, sys
import xml.etree.ElementTree as ET
d = sys.argv[1]
md = open(os.path.join(d, "results.md")).read()
stdout = open(os.path.join(d, "stdout")).read()
assert md.strip() in stdout, "the report is not what bench/run printed"
assert "Not run." not in md, md
num = r"[0-9]+(\.[0-9]+)?"
# Control plane: one row for 100 nodes with every figure a number.
# (subnet.env, converge, CPU, peak RSS, PSS, libraries / heap, add, delete, incl. server, CPU)
assert re.search(r"^\| 100 \| %s \| %s \| %s \| %s \| %s \| %s / %s \| %s / %s \| %s / %s \| %s / %s, %s / %s \| %s \|$"
                 % ((num,) * 16), md, re.M), md
cp = json.load(open(os.path.join(d, "cp-100.json")))
for phase in ("add", "del"):
    ev = cp["events"][phase]
    # Every event reached the kernel and its watch write was logged by the server.
    assert ev["reached"] == 200 and ev["written"] == 200, cp
    assert 0 < ev["p50_ms"] <= ev["p99_ms"] and 0 < ev["e2e_p50_ms"] <= ev["e2e_p99_ms"], cp
assert 0 < cp["converge_s"] and cp["converge_rss_kib"] > 0, cp
assert cp["subnet_env_s"] > 0 and cp["end_mem"]["pss_kib"] > 0, cp
# Data path: the four backends, two stream counts each.
for label in ("vxlan", "vxlan DirectRouting", "host-gw", r"wireguard \(wireguard-go\)"):
    for s in ("1", "4"):
        assert re.search(r"^\| %s \| %s \| %s \| %s \| %s \|" % (label, s, num, num, num), md, re.M), (label, s)
# Restart disruption (vxlan; wireguard's is not run in quick mode), CNI latency
# of the four paths (ADD and DEL apart too), the network policy figures.
assert re.search(r"^\| vxlan \| 3 \| [0-9]+ \| [0-9]+ \(target 0", md, re.M), md
for path in ("flannel built-in", "flannel -> bridge", "bridge directly", r"veth pair alone \(ip link\)"):
    assert re.search(r"^\| %s \|( %s \|){6}$" % (path, num), md, re.M), (path, md)
assert re.search(r"^\| change -> kernel, worst p99 \(ms\) \| %s \|" % num, md, re.M), md
assert re.search(r"^\| throughput ratio with policies \| %s \|" % num, md, re.M), md
svg = ET.parse(os.path.join(d, "control-plane.svg")).getroot()
ns = "{http://www.w3.org/2000/svg}"
assert svg.tag == ns + "svg", svg.tag
assert len(svg.findall(ns + "circle")) >= 4, "no data points in the plot"
print("ok: bench/run --quick ran every benchmark and reported every figure")
PY
