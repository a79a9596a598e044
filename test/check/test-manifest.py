# SPDX-License-Identifier: Apache-2.0
"""Checks of the deployment artefacts: manifests/kube-flannel.yml, the
Dockerfile (+ .dockerignore) and the CMake install rules they both rely on.

No cluster and no container engine run here, so everything that can be
checked statically is, and the rest is simulated with the real programs:

* every object is walked against the Kubernetes API models (python3-kubernetes)
  so that a misspelt or misplaced field fails, then the fields that matter
  are compared with what flannel needs (RBAC exactly, DaemonSet scheduling,
  security context, volumes and mounts, probes against flanneld's own args,
  downward-API env, resources);
* the project is installed with its CMake install rules into a DESTDIR with
  prefix /usr, exactly as the Dockerfile does; the manifest's commands and the
  image ENTRYPOINT must exist there, the runtime image must install the
  Debian packages of every shared library the binaries link, and the builder
  the -dev packages of every pkg-config module CMake requires;
* the ConfigMap's net-conf.json is parsed by flanneld's own parser
  (test/tools/netconf-check); the init container is replayed with the
  installed CNI plugin's `install` subcommand against temporary "host"
  directories, which validates cni-conf.json with the plugin's own parser and
  checks what lands on the host;
* flanneld itself parses the manifest's arguments (with --version appended).

Env: SRC_DIR (source tree), BUILD_DIR (a configured and built tree).
"""

import fnmatch
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

try:
    import kubernetes.client as kmodels
    import yaml
except ImportError:
    # The models come from Debian's python3-kubernetes, which a python3 from
    # pyenv or a venv does not see: rerun with Debian's interpreter.
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

SRC_DIR = os.environ.get("SRC_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.environ.get("BUILD_DIR") or os.path.join(SRC_DIR, "build")
MANIFEST = os.path.join(SRC_DIR, "manifests", "kube-flannel.yml")
DOCKERFILE = os.path.join(SRC_DIR, "Dockerfile")
DOCKERIGNORE = os.path.join(SRC_DIR, ".dockerignore")

NAMESPACE = "kube-flannel"
FLANNEL_LABELS = {"tier": "node", "app": "flannel", "k8s-app": "flannel"}

# flanneld's flags (docs/flannel-behaviour.md §1.1), bools separately.
FLANNELD_BOOL_FLAGS = {
    "ip-masq", "ip-masq-fully-random-disable", "kube-subnet-mgr", "version",
    "iptables-forward-rules", "ip-blackhole-route", "set-node-network-unavailable",
}
FLANNELD_VALUE_FLAGS = {
    "etcd-endpoints", "etcd-prefix", "etcd-keyfile", "etcd-certfile", "etcd-cafile",
    "etcd-username", "etcd-password", "iface", "iface-regex", "iface-can-reach",
    "subnet-file", "public-ip", "public-ipv6", "subnet-lease-renew-margin",
    "kube-api-url", "kube-annotation-prefix", "kubeconfig-file", "healthz-ip",
    "healthz-port", "iptables-resync", "net-config-path", "v", "vmodule",
    "log_backtrace_at",
}
FLANNELD_DEFAULTS = {
    "subnet-file": "/run/flannel/subnet.env",
    "net-config-path": "/etc/kube-flannel/net-conf.json",
    "healthz-ip": "0.0.0.0",
    "healthz-port": "0",
}
RUNTIME_PROGRAMS = ("iptables-save", "iptables-restore", "ip6tables-save", "ip6tables-restore",
                    "nft")
CNI_SUPPORTED_VERSIONS = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}
CNI_DEFAULT_SUBNET_FILE = "/run/flannel/subnet.env"
CONFLIST_NAME = "10-flannel.conflist"

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def expect(cond, msg):
    if not cond:
        fail(msg)
    return bool(cond)


def expect_eq(what, got, want):
    return expect(got == want, "%s: got %r, want %r" % (what, got, want))


def dig(obj, *path, default=None):
    for key in path:
        if isinstance(obj, dict) and key in obj:
            obj = obj[key]
        elif isinstance(obj, list) and isinstance(key, int) and key < len(obj):
            obj = obj[key]
        else:
            return default
    return obj


def project_version():
    with open(os.path.join(SRC_DIR, "CMakeLists.txt")) as f:
        m = re.search(r"project\(\s*\S+\s+VERSION\s+([0-9.]+)", f.read())
    assert m, "no project(... VERSION x.y.z) in CMakeLists.txt"
    return m.group(1)


# --- 1. strict schema walk ----------------------------------------------------

KIND_MODELS = {
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "V1ClusterRole",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "V1ClusterRoleBinding",
    ("apps/v1", "DaemonSet"): "V1DaemonSet",
}
PRIMITIVES = {"str": (str,), "bool": (bool,), "int": (int,), "float": (int, float),
              "object": (str, int, dict, list, bool, float), "datetime": (str,), "date": (str,)}


def walk(value, typ, where):
    """Check value against a python3-kubernetes type string; report unknown
    fields and wrong types, the two mistakes kubectl would reject."""
    if value is None:
        return
    if typ.startswith("list["):
        if expect(isinstance(value, list), "%s: must be a list" % where):
            for i, item in enumerate(value):
                walk(item, typ[5:-1], "%s[%d]" % (where, i))
        return
    if typ.startswith("dict("):
        inner = typ[typ.index(",") + 1:-1].strip()
        if expect(isinstance(value, dict), "%s: must be a map" % where):
            for k, v in value.items():
                expect(isinstance(k, str), "%s: key %r must be a string" % (where, k))
                walk(v, inner, "%s.%s" % (where, k))
        return
    if typ in PRIMITIVES:
        ok = isinstance(value, PRIMITIVES[typ])
        if typ == "int" and isinstance(value, bool):
            ok = False
        expect(ok, "%s: must be %s, got %r" % (where, typ, value))
        return
    model = getattr(kmodels, typ)
    if not expect(isinstance(value, dict), "%s: must be an object (%s)" % (where, typ)):
        return
    by_json = {j: a for a, j in model.attribute_map.items()}
    for key, v in value.items():
        if expect(key in by_json, "%s.%s: unknown field (in %s)" % (where, key, typ)):
            walk(v, model.openapi_types[by_json[key]], "%s.%s" % (where, key))


# --- 2. the objects -----------------------------------------------------------

def check_objects(docs):
    got = [(d.get("apiVersion"), d.get("kind"), dig(d, "metadata", "name")) for d in docs]
    want = [
        ("v1", "Namespace", NAMESPACE),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", "flannel"),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "flannel"),
        ("v1", "ServiceAccount", "flannel"),
        ("v1", "ConfigMap", "kube-flannel-cfg"),
        ("apps/v1", "DaemonSet", "kube-flannel-ds"),
    ]
    expect_eq("objects (apiVersion, kind, name) in order", got, want)
    objs = {}
    for d in docs:
        key = (d.get("apiVersion"), d.get("kind"))
        if expect(key in KIND_MODELS, "unexpected object %r" % (key,)):
            walk(d, KIND_MODELS[key], "%s/%s" % (key[1], dig(d, "metadata", "name")))
        objs[d.get("kind")] = d
        ns = dig(d, "metadata", "namespace")
        if d.get("kind") in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
            expect(ns is None, "%s is cluster-scoped but has namespace %r" % (d.get("kind"), ns))
        else:
            expect_eq("%s namespace" % d.get("kind"), ns, NAMESPACE)
    return objs


def check_namespace(ns):
    labels = dig(ns, "metadata", "labels", default={})
    expect_eq("Namespace PSA enforce label",
              labels.get("pod-security.kubernetes.io/enforce"), "privileged")
    expect_eq("Namespace k8s-app label", labels.get("k8s-app"), "flannel")


def normalized_rules(role):
    rules = set()
    for r in role.get("rules") or []:
        for group in r.get("apiGroups") or []:
            for res in r.get("resources") or []:
                for verb in r.get("verbs") or []:
                    rules.add((group, res, verb))
        expect(not r.get("resourceNames") and not r.get("nonResourceURLs"),
               "ClusterRole rule %r: unexpected resourceNames/nonResourceURLs" % r)
    return rules


def check_rbac(objs, pod_env):
    role, binding, sa = objs["ClusterRole"], objs["ClusterRoleBinding"], objs["ServiceAccount"]
    want = {("", "nodes", "get"), ("", "nodes", "list"), ("", "nodes", "watch"),
            ("", "nodes/status", "patch"),
            # --network-policy: the reflectors LIST and WATCH these, nothing more
            # (kube-wire README RB2: exactly these two rules, no "get")
            ("", "pods", "list"), ("", "pods", "watch"),
            ("", "namespaces", "list"), ("", "namespaces", "watch"),
            ("networking.k8s.io", "networkpolicies", "list"),
            ("networking.k8s.io", "networkpolicies", "watch")}
    # flanneld reads its own pod only to learn the node name when NODE_NAME is
    # unset; the rule is there exactly when the manifest needs it.
    node_name_set = dig(pod_env.get("NODE_NAME"), "valueFrom", "fieldRef", "fieldPath") == "spec.nodeName"
    if not node_name_set:
        want.add(("", "pods", "get"))
    expect_eq("ClusterRole rules (apiGroup, resource, verb)", normalized_rules(role), want)
    expect(not any("*" in x for x in normalized_rules(role)), "ClusterRole uses a wildcard")
    expect_eq("ClusterRole labels", dig(role, "metadata", "labels"), {"k8s-app": "flannel"})
    expect_eq("ClusterRoleBinding roleRef", binding.get("roleRef"),
              {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
               "name": dig(role, "metadata", "name")})
    expect_eq("ClusterRoleBinding subjects", binding.get("subjects"),
              [{"kind": "ServiceAccount", "name": dig(sa, "metadata", "name"),
                "namespace": NAMESPACE}])
    ds_sa = dig(objs["DaemonSet"], "spec", "template", "spec", "serviceAccountName")
    expect_eq("DaemonSet serviceAccountName", ds_sa, dig(sa, "metadata", "name"))


def parse_flanneld_args(args):
    flags = {}
    for a in args:
        m = re.fullmatch(r"--?([A-Za-z0-9_-]+)(?:=(.*))?", a)
        if not expect(m, "flanneld argument %r is not of the form --flag[=value]" % a):
            continue
        name, value = m.group(1), m.group(2)
        if name in FLANNELD_BOOL_FLAGS:
            expect(value in (None, "true", "false"), "flanneld --%s: bad bool %r" % (name, value))
            flags[name] = value != "false"
        elif expect(name in FLANNELD_VALUE_FLAGS, "flanneld: unknown flag --%s" % name):
            expect(value is not None, "flanneld --%s needs =value (a separate word is "
                   "ambiguous for this check)" % name)
            flags[name] = value
    return flags


def container_path_to_volume(container, path):
    """(volume name, path inside the volume) of the longest mount holding path."""
    best = None
    for m in container.get("volumeMounts") or []:
        mp = m["mountPath"].rstrip("/")
        if path == mp or path.startswith(mp + "/"):
            if best is None or len(mp) > len(best[0]):
                best = (mp, m)
    if best is None:
        return None, None
    return best[1]["name"], path[len(best[0]):].lstrip("/")


def check_configmap(cm):
    expect_eq("ConfigMap labels", dig(cm, "metadata", "labels"), FLANNEL_LABELS)
    data = cm.get("data") or {}
    expect_eq("ConfigMap keys", sorted(data), ["cni-conf.json", "net-conf.json"])
    try:
        cni = json.loads(data.get("cni-conf.json", ""))
    except ValueError as e:
        fail("cni-conf.json is not JSON: %s" % e)
        cni = {}
    try:
        net = json.loads(data.get("net-conf.json", ""))
    except ValueError as e:
        fail("net-conf.json is not JSON: %s" % e)
        net = {}
    expect(isinstance(cni.get("name"), str) and cni.get("name"), "cni-conf.json: name missing")
    expect(cni.get("cniVersion") in CNI_SUPPORTED_VERSIONS,
           "cni-conf.json: cniVersion %r not supported by the plugin" % cni.get("cniVersion"))
    plugins = cni.get("plugins") if isinstance(cni.get("plugins"), list) else []
    expect(plugins, "cni-conf.json: plugins must be a non-empty list")
    expect_eq("cni-conf.json plugins[0].type", dig(plugins, 0, "type"), "flannel")
    # The plugin wires pods itself (no bridge/host-local needed on the node).
    expect_eq("cni-conf.json flannel mode", dig(plugins, 0, "mode"), "builtin")
    expect_eq("cni-conf.json flannel delegate", dig(plugins, 0, "delegate"),
              {"hairpinMode": True, "isDefaultGateway": True})
    portmap = [p for p in plugins if p.get("type") == "portmap"]
    expect(len(portmap) == 1 and dig(portmap, 0, "capabilities", "portMappings") is True,
           "cni-conf.json: one portmap plugin with capabilities.portMappings true")
    expect_eq("net-conf.json Network", net.get("Network"), "10.244.0.0/16")
    expect_eq("net-conf.json EnableNFTables", net.get("EnableNFTables"), False)
    expect_eq("net-conf.json Backend", net.get("Backend"), {"Type": "vxlan"})
    return cni, net


def check_rollout(ru):
    """An absolute maxUnavailable above 1 (the datapath survives an agent
    restart) but bounded, and no surge: two agents on one node would share
    its kernel state and health port."""
    mu = ru.get("maxUnavailable")
    expect(isinstance(mu, int) and not isinstance(mu, bool),
           "rollingUpdate.maxUnavailable must be an absolute number, not %r (a percentage "
           "grows the blast radius of a bad image with the cluster)" % (mu,))
    if isinstance(mu, int):
        expect(1 < mu <= 20, "rollingUpdate.maxUnavailable %d outside 2..20" % mu)
    expect(ru.get("maxSurge") in (0, "0", "0%"),
           "rollingUpdate.maxSurge must be 0, got %r" % (ru.get("maxSurge"),))


def check_probe_timings(main):
    """The readiness probe gates the rollout: it must see the agent ready
    within a second of start, and tolerate a brief 503 without a restart."""
    ready = main.get("readinessProbe") or {}
    expect_eq("readinessProbe initialDelaySeconds", ready.get("initialDelaySeconds", 0), 0)
    expect_eq("readinessProbe periodSeconds", ready.get("periodSeconds"), 1)
    expect(ready.get("timeoutSeconds", 1) <= ready.get("periodSeconds", 10),
           "readinessProbe timeoutSeconds above its period")
    live = main.get("livenessProbe") or {}
    expect(live.get("initialDelaySeconds", 0) == 0,
           "livenessProbe: /healthz answers from the start, no initialDelaySeconds needed")
    budget = live.get("periodSeconds", 10) * live.get("failureThreshold", 3)
    expect(budget >= 20, "livenessProbe restarts the agent after %ds of misses: too eager"
           % budget)
    expect(main.get("startupProbe") is None, "no startupProbe: /healthz needs no start grace")


def check_daemonset(objs, version):
    ds, cm = objs["DaemonSet"], objs["ConfigMap"]
    image = "ghcr.io/flannel-c/flannel:v" + version
    expect_eq("DaemonSet labels", dig(ds, "metadata", "labels"), FLANNEL_LABELS)
    spec = ds.get("spec") or {}
    tmpl_labels = dig(spec, "template", "metadata", "labels", default={})
    expect_eq("DaemonSet selector", dig(spec, "selector"), {"matchLabels": {"app": "flannel"}})
    expect_eq("DaemonSet template labels", tmpl_labels, {"tier": "node", "app": "flannel"})
    expect_eq("DaemonSet updateStrategy.type", dig(spec, "updateStrategy", "type"), "RollingUpdate")
    check_rollout(dig(spec, "updateStrategy", "rollingUpdate", default={}))
    pod = dig(spec, "template", "spec", default={})
    expect_eq("hostNetwork", pod.get("hostNetwork"), True)
    expect_eq("priorityClassName", pod.get("priorityClassName"), "system-node-critical")
    expect_eq("tolerations", pod.get("tolerations"), [{"operator": "Exists", "effect": "NoSchedule"}])
    expect_eq("node affinity", dig(pod, "affinity", "nodeAffinity",
                                   "requiredDuringSchedulingIgnoredDuringExecution"),
              {"nodeSelectorTerms": [{"matchExpressions": [
                  {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]})
    expect(not pod.get("hostPID") and not pod.get("hostIPC"), "hostPID/hostIPC must stay off")
    expect_eq("pod seccompProfile", dig(pod, "securityContext", "seccompProfile"),
              {"type": "RuntimeDefault"})

    # Volumes: the hostPath set flannel needs, every volume used, every mount backed.
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    expect_eq("volume names unique", len(volumes), len(pod.get("volumes") or []))
    want_host = {"run": ("/run/flannel", "DirectoryOrCreate"),
                 "cni-plugin": ("/opt/cni/bin", "DirectoryOrCreate"),
                 "cni": ("/etc/cni/net.d", "DirectoryOrCreate"),
                 "xtables-lock": ("/run/xtables.lock", "FileOrCreate")}
    got_host = {n: (dig(v, "hostPath", "path"), dig(v, "hostPath", "type"))
                for n, v in volumes.items() if "hostPath" in v}
    expect_eq("hostPath volumes (path, type)", got_host, want_host)
    expect_eq("flannel-cfg volume", volumes.get("flannel-cfg"),
              {"name": "flannel-cfg", "configMap": {"name": dig(cm, "metadata", "name")}})

    containers = pod.get("containers") or []
    inits = pod.get("initContainers") or []
    expect_eq("container names", [c.get("name") for c in containers], ["kube-flannel"])
    expect_eq("init container names", [c.get("name") for c in inits], ["install-cni"])
    used = set()
    for c in containers + inits:
        name = c.get("name")
        expect_eq("%s image" % name, c.get("image"), image)
        paths = [m.get("mountPath", "").rstrip("/") for m in c.get("volumeMounts") or []]
        expect_eq("%s mount paths unique" % name, len(set(paths)), len(paths))
        for m in c.get("volumeMounts") or []:
            used.add(m["name"])
            expect(m["name"] in volumes, "%s mounts %r, which is no volume" % (name, m["name"]))
            if m["name"] == "flannel-cfg":
                expect_eq("%s flannel-cfg mount readOnly" % name, m.get("readOnly"), True)
        sc = c.get("securityContext") or {}
        expect_eq("%s privileged" % name, sc.get("privileged"), False)
        expect_eq("%s allowPrivilegeEscalation" % name, sc.get("allowPrivilegeEscalation"), False)
        expect_eq("%s capabilities.drop" % name, dig(sc, "capabilities", "drop"), ["ALL"])
        expect_eq("%s readOnlyRootFilesystem" % name, sc.get("readOnlyRootFilesystem"), True)
        expect(c.get("command") and os.path.isabs(c["command"][0]),
               "%s: command must be an absolute path in the image" % name)
    expect_eq("volumes used by some mount", used, set(volumes))

    main = containers[0] if containers else {}
    init = inits[0] if inits else {}
    expect_eq("kube-flannel capabilities.add",
              sorted(dig(main, "securityContext", "capabilities", "add", default=[])),
              ["NET_ADMIN", "NET_RAW"])
    expect_eq("install-cni capabilities.add",
              dig(init, "securityContext", "capabilities", "add"), None)
    expect_eq("kube-flannel resources", main.get("resources"),
              {"requests": {"cpu": "100m", "memory": "50Mi"}})

    env = {e.get("name"): e for e in main.get("env") or []}
    expect_eq("env names unique", len(env), len(main.get("env") or []))
    for var, field in (("NODE_NAME", "spec.nodeName"), ("POD_NAME", "metadata.name"),
                       ("POD_NAMESPACE", "metadata.namespace")):
        expect_eq("env %s" % var, env.get(var),
                  {"name": var, "valueFrom": {"fieldRef": {"fieldPath": field}}})
    expect_eq("env EVENT_QUEUE_DEPTH", dig(env, "EVENT_QUEUE_DEPTH", "value"), "5000")
    expect_eq("env CONT_WHEN_CACHE_NOT_READY", dig(env, "CONT_WHEN_CACHE_NOT_READY", "value"), "false")

    # flanneld's arguments, and the probes against what it listens on.
    flags = parse_flanneld_args(main.get("args") or [])
    expect_eq("flanneld --kube-subnet-mgr", flags.get("kube-subnet-mgr"), True)
    expect_eq("flanneld --ip-masq", flags.get("ip-masq"), True)
    eff = dict(FLANNELD_DEFAULTS, **{k: v for k, v in flags.items() if isinstance(v, str)})
    port = int(eff["healthz-port"]) if eff["healthz-port"].isdigit() else -1
    expect(0 < port < 65536, "flanneld --healthz-port must enable the health server, got %r"
           % eff["healthz-port"])
    ports = {p.get("name"): p for p in main.get("ports") or []}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = dig(main, probe, "httpGet")
        if not expect(get, "kube-flannel %s must be an httpGet" % probe):
            continue
        expect_eq("%s path" % probe, get.get("path"), path)
        p = get.get("port")
        if isinstance(p, str):
            expect(p in ports, "%s port %r names no container port" % (probe, p))
            p = dig(ports, p, "containerPort")
        expect_eq("%s port vs --healthz-port" % probe, p, port)
        host = get.get("host")
        if eff["healthz-ip"] in ("0.0.0.0", "::", ""):
            expect(host in (None, "127.0.0.1"), "%s host %r: the server listens on all "
                   "addresses" % (probe, host))
        else:
            expect_eq("%s host vs --healthz-ip" % probe, host, eff["healthz-ip"])
        if host is not None:
            # The kubelet reaches a pod's loopback only when it shares the
            # node's network namespace with it.
            expect(pod.get("hostNetwork") is True and host in ("127.0.0.1", "::1"),
                   "%s host %r works only as loopback of a hostNetwork pod" % (probe, host))
    check_probe_timings(main)
    expect_eq("ports", main.get("ports"),
              [{"name": "healthz", "containerPort": port, "protocol": "TCP"}])

    # Files flanneld reads and writes sit on the right volumes, and the host
    # path of subnet.env is the one the CNI plugin reads.
    vol, rel = container_path_to_volume(main, eff["net-config-path"])
    expect(vol == "flannel-cfg" and rel in (cm.get("data") or {}),
           "--net-config-path %s is not a key of the ConfigMap" % eff["net-config-path"])
    vol, rel = container_path_to_volume(main, eff["subnet-file"])
    host_subnet_file = None
    if expect(vol in got_host, "--subnet-file %s is not on a hostPath volume" % eff["subnet-file"]):
        host_subnet_file = os.path.join(got_host[vol][0], rel)
    vol, _ = container_path_to_volume(main, "/run/xtables.lock")
    expect_eq("/run/xtables.lock mount", vol, "xtables-lock")
    return flags, env, host_subnet_file


def check_no_privileged(docs):
    def scan(o, where):
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "privileged" and v is True:
                    fail("%s.privileged is true" % where)
                scan(v, where + "." + k)
        elif isinstance(o, list):
            for i, v in enumerate(o):
                scan(v, "%s[%d]" % (where, i))
    scan(docs, "manifest")


# --- 3. install rules, Dockerfile, .dockerignore -------------------------------

def install_tree(dest):
    env = dict(os.environ, DESTDIR=dest)
    r = subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", "/usr"], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail("cmake --install into a DESTDIR failed:\n" + r.stdout + r.stderr)
        return None
    return dest


def cache_bool(name):
    try:
        with open(os.path.join(BUILD_DIR, "CMakeCache.txt")) as f:
            m = re.search(r"^%s:BOOL=(\S+)" % name, f.read(), re.M)
    except OSError:
        return False
    return bool(m) and m.group(1).upper() in ("ON", "1", "TRUE", "YES")


def dockerfile_stages():
    """[(from, alias, [(instruction, argument), ...])] with continuations joined."""
    stages = []
    with open(DOCKERFILE) as f:
        text = re.sub(r"\\\n", " ", f.read())
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, arg = line.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", arg.strip(), re.I)
            stages.append((m.group(1), m.group(2), []))
        elif expect(stages, "Dockerfile: %s before FROM" % instr):
            stages[-1][2].append((instr, " ".join(arg.split())))
    return stages


def apt_packages(instructions):
    pkgs = set()
    for instr, arg in instructions:
        if instr != "RUN":
            continue
        for m in re.finditer(r"apt-get install ((?:\s*[^&;|]+))", arg):
            pkgs.update(w for w in m.group(1).split() if not w.startswith("-"))
    return pkgs


def dpkg_owner(path):
    candidates = [path, os.path.realpath(path)]
    for p in list(candidates):
        candidates.append(p[4:] if p.startswith("/usr/") else "/usr" + p)
    for p in candidates:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0].split(",")[0].strip()
    return None


def elf_needed(path):
    r = subprocess.run(["readelf", "-d", path], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", r.stdout)


def ldd_paths(path):
    """soname -> path as the dynamic linker resolves it for this binary."""
    r = subprocess.run(["ldd", path], capture_output=True, text=True)
    return dict(re.findall(r"^\s*(\S+) => (/\S+)", r.stdout, re.M))


def check_dockerignore():
    patterns = []
    with open(DOCKERIGNORE) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                expect(not line.startswith("!"), ".dockerignore: exceptions (%s) are not "
                       "understood by this check" % line)
                patterns.append(line.strip("/"))

    def ignored(path):
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            for p in patterns:
                if p.startswith("**/"):
                    if fnmatch.fnmatchcase(parts[i - 1], p[3:]):
                        return True
                elif "/" not in p and i == 1 and fnmatch.fnmatchcase(prefix, p):
                    return True
                elif "/" in p and fnmatch.fnmatchcase(prefix, p) and \
                        prefix.count("/") == p.count("/"):
                    return True
        return False

    r = subprocess.run(["git", "-C", SRC_DIR, "ls-files"], capture_output=True, text=True)
    expect(r.returncode == 0 and r.stdout.strip(), "git ls-files failed: " + r.stderr)
    for path in r.stdout.splitlines():
        expect(not ignored(path), ".dockerignore excludes tracked file %s" % path)
    for junk in ("build/CMakeCache.txt", "build-x/flanneld", ".git/HEAD", "lib/x.o",
                 "test/__pycache__/a.pyc"):
        expect(ignored(junk), ".dockerignore lets %s into the build context" % junk)


def check_image(dest, manifest_objs, version):
    stages = dockerfile_stages()
    if not expect(len(stages) == 2, "Dockerfile: want 2 stages (builder, runtime)"):
        return
    (b_from, b_alias, b_ins), (r_from, _, r_ins) = stages
    expect_eq("builder base", b_from, "debian:12")
    expect_eq("runtime base", r_from, "debian:12-slim")
    runs = " && ".join(a for i, a in b_ins if i == "RUN")
    expect("-DCMAKE_INSTALL_PREFIX=/usr" in runs, "builder: configure with -DCMAKE_INSTALL_PREFIX=/usr")
    expect("-DFLANNEL_TESTS=OFF" in runs, "builder: tests off (cmocka is not installed there)")
    m = re.search(r"DESTDIR=(\S+) cmake --install (\S+)", runs)
    expect(m, "builder: DESTDIR=<dir> cmake --install <build>")
    out = m.group(1) if m else None
    copies = [a for i, a in r_ins if i == "COPY"]
    expect_eq("runtime COPY", copies, ["--from=%s %s/ /" % (b_alias, out)])
    entry = [a for i, a in r_ins if i == "ENTRYPOINT"]
    entry = json.loads(entry[-1]) if entry else []
    main = dig(manifest_objs, "DaemonSet", "spec", "template", "spec", "containers", 0, default={})
    expect_eq("ENTRYPOINT vs manifest's flanneld", entry, main.get("command"))
    labels = " ".join(a for i, a in r_ins if i == "LABEL")
    expect('org.opencontainers.image.version="%s"' % version in labels,
           "Dockerfile version label is not the project version %s" % version)
    expect('org.opencontainers.image.licenses="Apache-2.0"' in labels, "license label")

    # The image's binaries are the install tree; every command the manifest
    # runs must be an executable there.
    pod = dig(manifest_objs, "DaemonSet", "spec", "template", "spec", default={})
    for c in (pod.get("containers") or []) + (pod.get("initContainers") or []):
        cmd = (c.get("command") or ["?"])[0]
        p = dest + cmd
        expect(os.path.isfile(p) and os.access(p, os.X_OK),
               "%s: %s is not an executable installed by CMake" % (c.get("name"), cmd))
    with open(MANIFEST, "rb") as a, open(dest + "/usr/share/flannel/kube-flannel.yml", "rb") as b:
        expect(a.read() == b.read(), "installed kube-flannel.yml differs from manifests/")

    # Runtime packages: the Debian package of every shared library linked.
    sanitized = cache_bool("FLANNEL_SANITIZE") or cache_bool("FLANNEL_FUZZ")
    runtime_pkgs = apt_packages(r_ins) | {"libc6"}  # libc6 is in every Debian image
    for root, _, files in os.walk(dest):
        for fn in files:
            path = os.path.join(root, fn)
            needed = elf_needed(path)
            if needed is None:
                continue
            rel = path[len(dest):]
            if rel == "/usr/libexec/flannel/flannel" and not sanitized:
                expect_eq("CNI plugin NEEDED (must be static: it runs on the host)", needed, [])
            resolved = ldd_paths(path)
            for so in needed:
                if sanitized and re.match(r"lib(asan|ubsan|clang_rt)", so):
                    continue  # instrumented build only, never in the image
                lib = resolved.get(so)
                pkg = dpkg_owner(lib) if lib else None
                if expect(pkg, "%s needs %s, which belongs to no Debian package here" % (rel, so)):
                    expect(pkg in runtime_pkgs, "%s needs %s from %s, which the runtime stage "
                           "does not install" % (rel, so, pkg))

    # Programs flanneld runs for the traffic rules (lib/rules/traffic.c): the
    # runtime stage must install the packages that ship them.
    for prog in RUNTIME_PROGRAMS:
        path = shutil.which(prog, path="/usr/sbin:/usr/bin:/sbin:/bin")
        pkg = dpkg_owner(path) if path else None
        if expect(pkg, "%s: not found in a Debian package here" % prog):
            expect(pkg in runtime_pkgs, "flanneld runs %s from %s, which the runtime stage does "
                   "not install" % (prog, pkg))

    # Builder packages: the -dev package of every pkg-config module CMake requires.
    with open(os.path.join(SRC_DIR, "CMakeLists.txt")) as f:
        modules = []
        for m in re.finditer(r"pkg_check_modules\(\s*\w+\s+REQUIRED\s+IMPORTED_TARGET\s+([^)]*)\)",
                             f.read()):
            modules += m.group(1).split()
    expect(modules, "no pkg_check_modules in CMakeLists.txt")
    builder_pkgs = apt_packages(b_ins)
    for mod in modules:
        r = subprocess.run(["pkg-config", "--variable=pcfiledir", mod], capture_output=True, text=True)
        pc = os.path.join(r.stdout.strip(), mod + ".pc")
        pkg = dpkg_owner(pc) if r.returncode == 0 else None
        if expect(pkg, "pkg-config module %s: no Debian package found" % mod):
            expect(pkg in builder_pkgs, "builder does not install %s (for %s)" % (pkg, mod))
    for tool in ("cmake", "pkg-config", "build-essential"):
        expect(tool in builder_pkgs, "builder does not install %s" % tool)


# --- 4. the programs on the ConfigMap ------------------------------------------

def check_net_conf(net_text, net):
    tool = os.path.join(BUILD_DIR, "test", "netconf-check")
    if not expect(os.access(tool, os.X_OK), "%s not built" % tool):
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "net-conf.json")
        with open(path, "w") as f:
            f.write(net_text)
        r = subprocess.run([tool, path], capture_output=True, text=True)
        if not expect(r.returncode == 0, "flanneld's parser rejects net-conf.json: " + r.stderr):
            return
        got = dict(line.split("=", 1) for line in r.stdout.splitlines())
        expect_eq("parsed Network", got.get("Network"), net.get("Network"))
        expect_eq("parsed BackendType", got.get("BackendType"),
                  dig(net, "Backend", "Type", default="udp").lower())
        expect_eq("parsed EnableNFTables", got.get("EnableNFTables"),
                  "true" if net.get("EnableNFTables") else "false")
        expect_eq("parsed EnableIPv4", got.get("EnableIPv4"), "true")
        expect_eq("parsed EnableIPv6", got.get("EnableIPv6"), "false")
        backend = net.get("Backend") or {}
        expect_eq("parsed VNI", got.get("VNI"), str(backend.get("VNI", 1)))
        expect_eq("parsed Port", got.get("Port"), str(backend.get("Port", 0)))
        expect_eq("parsed DirectRouting", got.get("DirectRouting"),
                  "true" if backend.get("DirectRouting") else "false")
        # The checker must be able to say no, and name the field.
        with open(path, "w") as f:
            f.write(net_text.replace(net["Network"], net["Network"].split("/")[0] + "/33"))
        r = subprocess.run([tool, path], capture_output=True, text=True)
        expect(r.returncode == 1 and "Network" in r.stderr,
               "netconf-check accepted Network /33 (rc %d, stderr %r)" % (r.returncode, r.stderr))
        with open(path, "w") as f:
            json.dump(dict(net, Backend=dict(net.get("Backend") or {}, VNI="x")), f)
        r = subprocess.run([tool, path], capture_output=True, text=True)
        expect(r.returncode == 1 and "VNI" in r.stderr,
               "netconf-check accepted VNI \"x\" (rc %d, stderr %r)" % (r.returncode, r.stderr))


def replay_init_container(dest, pod, cm_data):
    """Run the init container's command from the install tree with every
    volume mapped to a temporary directory, as the kubelet would mount it;
    return (returncode, output, {volume: directory})."""
    init = (pod.get("initContainers") or [{}])[0]
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    tmp = tempfile.mkdtemp(prefix="flannel-check-manifest.")
    dirs = {}
    for m in init.get("volumeMounts") or []:
        v = volumes.get(m["name"], {})
        d = os.path.join(tmp, "vol", m["name"])
        os.makedirs(d)
        if "configMap" in v:
            for key, text in cm_data.items():
                with open(os.path.join(d, key), "w") as f:
                    f.write(text)
                os.chmod(os.path.join(d, key), 0o644)  # configMap defaultMode
        dirs[m["name"]] = d

    def remap(arg):
        vol, rel = container_path_to_volume(init, arg)
        return (os.path.join(dirs[vol], rel) if rel else dirs[vol]) if vol else arg

    argv = [dest + init["command"][0]] + [remap(a) for a in (init.get("command") or [])[1:]]
    argv += [remap(a) for a in init.get("args") or []]
    env = {"PATH": "/usr/bin:/bin"}  # no CNI_COMMAND: the binary acts as the installer
    r = subprocess.run(argv, capture_output=True, text=True, env=env)
    return tmp, r.returncode, r.stdout + r.stderr, dirs


def check_cni_install(dest, pod, cm_data, cni):
    tmp, rc, out, dirs = replay_init_container(dest, pod, cm_data)
    try:
        if not expect(rc == 0, "init container install-cni failed (rc %d): %s" % (rc, out)):
            return
        bin_dir, conf_dir = dirs.get("cni-plugin"), dirs.get("cni")
        expect_eq("host /opt/cni/bin after install", sorted(os.listdir(bin_dir)), ["flannel"])
        expect_eq("host /etc/cni/net.d after install", sorted(os.listdir(conf_dir)), [CONFLIST_NAME])
        plugin = os.path.join(bin_dir, "flannel")
        with open(plugin, "rb") as a, open(dest + "/usr/libexec/flannel/flannel", "rb") as b:
            expect(a.read() == b.read(), "installed plugin differs from the image's")
        mode = stat.S_IMODE(os.stat(plugin).st_mode)
        expect(mode & 0o111 == 0o111 and not mode & 0o022, "plugin mode %o" % mode)
        conflist = os.path.join(conf_dir, CONFLIST_NAME)
        with open(conflist) as f:
            expect_eq("installed conflist", json.load(f), cni)
        mode = stat.S_IMODE(os.stat(conflist).st_mode)
        expect(mode & 0o400 and not mode & 0o022, "conflist mode %o" % mode)
    finally:
        shutil.rmtree(tmp)
    # A conflist the plugin cannot use never reaches the host.
    for bad in ('{"name": "cbr0", "cniVersion": "0.3.1", "plugins": [', "[]"):
        tmp, rc, out, dirs = replay_init_container(dest, pod, dict(cm_data, **{"cni-conf.json": bad}))
        try:
            expect(rc != 0, "installer accepted the conflist %r" % bad)
            expect(not os.listdir(dirs.get("cni")), "installer wrote something for conflist %r" % bad)
        finally:
            shutil.rmtree(tmp)


def check_flanneld_args(dest, main, version):
    argv = [dest + main["command"][0]] + (main.get("args") or []) + ["--version"]
    r = subprocess.run(argv, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"},
                       timeout=30)
    out = r.stdout + r.stderr
    expect(r.returncode == 0 and version in out and "Usage" not in out,
           "flanneld rejects the manifest's args (rc %d): %s" % (r.returncode, out))
    # Upstream prints the version alone on stderr; a shell prompt must not follow it.
    expect_eq("flanneld --version output", r.stderr, version + "\n")


def main():
    version = project_version()
    with open(MANIFEST) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    objs = check_objects(docs)
    need = {"Namespace", "ClusterRole", "ClusterRoleBinding", "ServiceAccount", "ConfigMap", "DaemonSet"}
    if not expect(need <= set(objs), "objects missing: %s" % (need - set(objs))):
        return 1
    check_namespace(objs["Namespace"])
    check_no_privileged(docs)
    cni, net = check_configmap(objs["ConfigMap"])
    flags, env, host_subnet_file = check_daemonset(objs, version)
    check_rbac(objs, env)
    for p in cni.get("plugins") or []:
        if p.get("type") == "flannel":
            expect_eq("CNI subnetFile vs flanneld --subnet-file on the host",
                      p.get("subnetFile", CNI_DEFAULT_SUBNET_FILE), host_subnet_file)
    check_dockerignore()

    cm_data = objs["ConfigMap"]["data"]
    check_net_conf(cm_data["net-conf.json"], net)
    with tempfile.TemporaryDirectory(prefix="flannel-check-install.") as dest:
        if install_tree(dest):
            check_image(dest, objs, version)
            pod = objs["DaemonSet"]["spec"]["template"]["spec"]
            check_cni_install(dest, pod, cm_data, cni)
            check_flanneld_args(dest, pod["containers"][0], version)

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("manifest, Dockerfile and install rules: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
