# SPDX-License-Identifier: Apache-2.0
"""The part of a kubelet and its container runtime that manifests/kube-flannel.yml
needs, with podman as the runtime, for test/image/test-manifest-pods.sh.

It reads the DaemonSet from the manifest and runs its pod on one "node" (a
network namespace) exactly as the spec says: init containers in order, each
to completion, then the containers; command/args as entrypoint and arguments;
env with the downward API; hostNetwork as the node's network namespace;
securityContext capabilities, readOnlyRootFilesystem, allowPrivilegeEscalation
and seccompProfile; hostPath volumes under a per-node "host root" directory
(never the machine's own /run, /etc, /opt); ConfigMap volumes as one file per
key; the service account token, ca.crt and namespace mounted where a kubelet
mounts them, and the KUBERNETES_SERVICE_* env it sets. Every field of the pod
spec it does not emulate is refused, so a later change to the manifest cannot
pass unnoticed.

It also plays the container runtime's CNI part: the first conflist of the
node's CNI conf dir, run plugin after plugin (prevResult chaining) from the
node's CNI bin dir, in a mount namespace where the node's /run and /var/lib
are the per-node host root's, so the installed plugin reads the agent's
subnet.env from /run/flannel as on a real node.

Subcommands:
  image MANIFEST                    the pod's image (all containers share it)
  rbac MANIFEST                     the ServiceAccount's ClusterRole rules as the
                                    test API server's VERB/RESOURCE list
  capmask MANIFEST CONTAINER        the container's effective capabilities as the
                                    hex mask of /proc/PID/status CapEff
  configmaps MANIFEST DIR [--network CIDR]
                                    each ConfigMap as DIR/NAME/KEY; --network replaces
                                    net-conf.json's Network (cluster configuration)
  run-pod MANIFEST --node NAME --netns NS --host-root DIR --configmaps DIR
          --sa-dir DIR --api HOST:PORT --prefix P --image IMG --node-ip IP
          [--podman-arg A]... [--run-arg A]...
                                    runs the init containers, starts the containers;
                                    prints "CONTAINER NAME" per started container
  probe MANIFEST --netns NS --node-ip IP --container NAME --kind readiness|liveness
                                    one httpGet probe from the node's namespace
  cni-add --netns NS --host-root DIR --pod-netns PATH --id ID
                                    CNI ADD of the node's conflist; prints the result
"""

import argparse
import json
import os
import random
import string
import subprocess
import sys

import yaml

SA_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"

# containerd's default capability set (what a container gets without `drop`).
RUNTIME_DEFAULT_CAPS = [
    "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
    "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
]

# linux/capability.h
CAP_NUMBERS = {name: i for i, name in enumerate([
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"])}

# Fields that do not change what runs on the node (scheduling, metadata,
# resource requests) are accepted and ignored; everything else must be emulated.
POD_FIELDS = {"affinity", "hostNetwork", "priorityClassName", "tolerations", "serviceAccountName",
              "securityContext", "initContainers", "containers", "volumes", "nodeSelector",
              "terminationGracePeriodSeconds", "automountServiceAccountToken"}
POD_SECCTX_FIELDS = {"seccompProfile"}
CONTAINER_FIELDS = {"name", "image", "imagePullPolicy", "command", "args", "env", "volumeMounts",
                    "securityContext", "ports", "livenessProbe", "readinessProbe", "resources"}
SECCTX_FIELDS = {"privileged", "allowPrivilegeEscalation", "readOnlyRootFilesystem",
                 "capabilities", "runAsUser", "runAsGroup", "runAsNonRoot"}
MOUNT_FIELDS = {"name", "mountPath", "readOnly"}
FIELD_REFS = {"spec.nodeName", "metadata.name", "metadata.namespace",
              "spec.serviceAccountName", "status.hostIP", "status.podIP"}


class SpecError(Exception):
    pass


def refuse_unknown(obj, known, where):
    extra = sorted(set(obj) - known)
    if extra:
        raise SpecError("%s: %s not emulated by kubelet-lite (extend it, never bypass it)"
                        % (where, ", ".join(extra)))


def load(manifest):
    with open(manifest) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def daemonset(docs):
    ds = [d for d in docs if d.get("kind") == "DaemonSet"]
    if len(ds) != 1:
        raise SpecError("want exactly one DaemonSet, found %d" % len(ds))
    return ds[0]


def all_containers(spec):
    return list(spec.get("initContainers") or []) + list(spec["containers"])


def cmd_image(args):
    spec = daemonset(load(args.manifest))["spec"]["template"]["spec"]
    images = {c["image"] for c in all_containers(spec)}
    if len(images) != 1:
        raise SpecError("containers use several images: %s" % sorted(images))
    print(images.pop())


def cmd_rbac(args):
    docs = load(args.manifest)
    ds = daemonset(docs)
    sa = ds["spec"]["template"]["spec"].get("serviceAccountName", "default")
    ns = ds["metadata"]["namespace"]
    roles = set()
    for d in docs:
        if d.get("kind") != "ClusterRoleBinding":
            continue
        for s in d.get("subjects") or []:
            if s.get("kind") == "ServiceAccount" and s["name"] == sa and s["namespace"] == ns:
                if d["roleRef"]["kind"] != "ClusterRole":
                    raise SpecError("binding %s: roleRef kind %s" % (d["metadata"]["name"],
                                                                    d["roleRef"]["kind"]))
                roles.add(d["roleRef"]["name"])
    verbs = []
    for d in docs:
        if d.get("kind") == "ClusterRole" and d["metadata"]["name"] in roles:
            for rule in d.get("rules") or []:
                for res in rule.get("resources") or []:
                    for verb in rule.get("verbs") or []:
                        verbs.append("%s/%s" % (verb, res))
    if not verbs:
        raise SpecError("service account %s/%s is bound to no ClusterRole rule" % (ns, sa))
    print(",".join(verbs))


def cmd_capmask(args):
    spec = daemonset(load(args.manifest))["spec"]["template"]["spec"]
    c = next((c for c in all_containers(spec) if c["name"] == args.container), None)
    if c is None:
        raise SpecError("no container %s" % args.container)
    sc = c.get("securityContext") or {}
    if sc.get("privileged"):
        raise SpecError("container %s is privileged" % args.container)
    mask = 0
    for cap in capabilities(sc):
        if cap not in CAP_NUMBERS:
            raise SpecError("unknown capability %s" % cap)
        mask |= 1 << CAP_NUMBERS[cap]
    print("%016x" % mask)


def cmd_configmaps(args):
    for d in load(args.manifest):
        if d.get("kind") != "ConfigMap":
            continue
        out = os.path.join(args.dir, d["metadata"]["name"])
        os.makedirs(out, exist_ok=True)
        for key, value in (d.get("data") or {}).items():
            if key == "net-conf.json" and args.network:
                conf = json.loads(value)
                conf["Network"] = args.network
                value = json.dumps(conf, indent=2) + "\n"
            with open(os.path.join(out, key), "w") as f:
                f.write(value)


def host_path(root, path):
    return os.path.join(root, path.lstrip("/"))


def prepare_volumes(spec, args):
    """Volume name -> host directory or file, created as the hostPath type says."""
    vols = {}
    for v in spec.get("volumes") or []:
        name = v["name"]
        if "hostPath" in v:
            hp = v["hostPath"]
            refuse_unknown(hp, {"path", "type"}, "volume %s hostPath" % name)
            path = host_path(args.host_root, hp["path"])
            kind = hp.get("type", "")
            if kind == "DirectoryOrCreate":
                os.makedirs(path, exist_ok=True)
            elif kind == "FileOrCreate":
                os.makedirs(os.path.dirname(path), exist_ok=True)
                open(path, "a").close()
            elif kind in ("Directory", "File", ""):
                if not os.path.exists(path):
                    raise SpecError("volume %s: host path %s does not exist" % (name, hp["path"]))
            else:
                raise SpecError("volume %s: hostPath type %s not emulated" % (name, kind))
            vols[name] = path
        elif "configMap" in v:
            cm = v["configMap"]
            refuse_unknown(cm, {"name"}, "volume %s configMap" % name)
            path = os.path.join(args.configmaps, cm["name"])
            if not os.path.isdir(path):
                raise SpecError("volume %s: no ConfigMap %s" % (name, cm["name"]))
            vols[name] = path
        else:
            raise SpecError("volume %s: only hostPath and configMap are emulated" % name)
    return vols


def capabilities(sc):
    caps = sc.get("capabilities") or {}
    refuse_unknown(caps, {"add", "drop"}, "capabilities")
    # Kubernetes takes names with or without the CAP_ prefix.
    norm = [c.upper().removeprefix("CAP_") for c in caps.get("drop") or []]
    have = [] if "ALL" in norm else [c for c in RUNTIME_DEFAULT_CAPS if c not in norm]
    for c in caps.get("add") or []:
        c = c.upper().removeprefix("CAP_")
        if c not in have:
            have.append(c)
    return have


def env_of(c, ctx):
    env = [("KUBERNETES_SERVICE_HOST", ctx["api_host"]),
           ("KUBERNETES_SERVICE_PORT", ctx["api_port"]),
           ("KUBERNETES_SERVICE_PORT_HTTPS", ctx["api_port"]),
           ("KUBERNETES_PORT", "tcp://%s:%s" % (ctx["api_host"], ctx["api_port"])),
           ("KUBERNETES_PORT_%s_TCP" % ctx["api_port"],
            "tcp://%s:%s" % (ctx["api_host"], ctx["api_port"])),
           ("KUBERNETES_PORT_%s_TCP_PROTO" % ctx["api_port"], "tcp"),
           ("KUBERNETES_PORT_%s_TCP_PORT" % ctx["api_port"], ctx["api_port"]),
           ("KUBERNETES_PORT_%s_TCP_ADDR" % ctx["api_port"], ctx["api_host"])]
    for e in c.get("env") or []:
        refuse_unknown(e, {"name", "value", "valueFrom"}, "env %s" % e.get("name"))
        if "valueFrom" in e:
            vf = e["valueFrom"]
            refuse_unknown(vf, {"fieldRef"}, "env %s valueFrom" % e["name"])
            path = vf["fieldRef"]["fieldPath"]
            if path not in FIELD_REFS:
                raise SpecError("env %s: fieldRef %s not emulated" % (e["name"], path))
            env.append((e["name"], ctx["fields"][path]))
        else:
            env.append((e["name"], str(e.get("value", ""))))
    return env


def podman_argv(c, pod_spec, vols, ctx, args, detach):
    where = "container %s" % c["name"]
    refuse_unknown(c, CONTAINER_FIELDS, where)
    res = c.get("resources") or {}
    refuse_unknown(res, {"requests"}, where + " resources")
    argv = ["podman"] + args.podman_arg + ["run"] + args.run_arg + [
        "--pull", "never", "--name", "%s-%s" % (args.prefix, c["name"]),
        "--network", "ns:/run/netns/%s" % args.netns,
        "--hostname", ctx["node"]]
    argv += ["-d"] if detach else ["--rm"]

    psc = pod_spec.get("securityContext") or {}
    refuse_unknown(psc, POD_SECCTX_FIELDS, "pod securityContext")
    seccomp = (psc.get("seccompProfile") or {}).get("type", "Unconfined")
    sc = c.get("securityContext") or {}
    refuse_unknown(sc, SECCTX_FIELDS, where + " securityContext")
    if "seccompProfile" in sc:
        seccomp = sc["seccompProfile"]["type"]
    if seccomp == "Unconfined":
        argv += ["--security-opt", "seccomp=unconfined"]
    elif seccomp != "RuntimeDefault":
        raise SpecError("%s: seccompProfile %s not emulated" % (where, seccomp))
    if sc.get("privileged"):
        argv += ["--privileged"]
    else:
        argv += ["--cap-drop", "all"]
        for cap in capabilities(sc):
            argv += ["--cap-add", cap]
    if sc.get("allowPrivilegeEscalation") is False:
        argv += ["--security-opt", "no-new-privileges"]
    if sc.get("readOnlyRootFilesystem"):
        # A kubelet mounts nothing writable besides the volumes: no tmpfs on /run, /tmp.
        argv += ["--read-only", "--read-only-tmpfs=false"]
    if "runAsUser" in sc or "runAsGroup" in sc:
        argv += ["--user", "%s:%s" % (sc.get("runAsUser", 0), sc.get("runAsGroup", 0))]
    if sc.get("runAsNonRoot") and sc.get("runAsUser", 0) == 0:
        raise SpecError("%s: runAsNonRoot without a non-zero runAsUser" % where)

    for name, value in env_of(c, ctx):
        argv += ["--env", "%s=%s" % (name, value)]
    if pod_spec.get("automountServiceAccountToken", True):
        argv += ["--volume", "%s:%s:ro" % (args.sa_dir, SA_MOUNT)]
    for m in c.get("volumeMounts") or []:
        refuse_unknown(m, MOUNT_FIELDS, "%s volumeMount %s" % (where, m.get("name")))
        if m["name"] not in vols:
            raise SpecError("%s: volumeMount of unknown volume %s" % (where, m["name"]))
        argv += ["--volume", "%s:%s%s" % (vols[m["name"]], m["mountPath"].rstrip("/") or "/",
                                          ":ro" if m.get("readOnly") else "")]
    command = c.get("command")
    if command:
        argv += ["--entrypoint", json.dumps(command[:1])]
        argv += [args.image] + command[1:] + list(c.get("args") or [])
    else:
        argv += [args.image] + list(c.get("args") or [])
    return argv


def cmd_run_pod(args):
    ds = daemonset(load(args.manifest))
    spec = ds["spec"]["template"]["spec"]
    refuse_unknown(spec, POD_FIELDS, "pod spec")
    if spec.get("hostNetwork") is not True:
        raise SpecError("only hostNetwork pods are emulated")
    api_host, api_port = args.api.rsplit(":", 1)
    pod_name = "%s-%s" % (ds["metadata"]["name"],
                          "".join(random.choice(string.ascii_lowercase) for _ in range(5)))
    ctx = {"node": args.node, "api_host": api_host, "api_port": api_port,
           "fields": {"spec.nodeName": args.node, "metadata.name": pod_name,
                      "metadata.namespace": ds["metadata"]["namespace"],
                      "spec.serviceAccountName": spec.get("serviceAccountName", "default"),
                      "status.hostIP": args.node_ip, "status.podIP": args.node_ip}}
    with open(os.path.join(args.sa_dir, "namespace"), "w") as f:
        f.write(ds["metadata"]["namespace"])
    vols = prepare_volumes(spec, args)
    for c in spec.get("initContainers") or []:
        argv = podman_argv(c, spec, vols, ctx, args, detach=False)
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sys.stderr.write(r.stdout)
        if r.returncode != 0:
            raise SpecError("init container %s exited %d" % (c["name"], r.returncode))
    for c in spec["containers"]:
        argv = podman_argv(c, spec, vols, ctx, args, detach=True)
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise SpecError("container %s did not start: %s" % (c["name"], r.stdout.strip()))
        print("%s %s-%s" % (c["name"], args.prefix, c["name"]))


def cmd_probe(args):
    spec = daemonset(load(args.manifest))["spec"]["template"]["spec"]
    c = next((c for c in spec["containers"] if c["name"] == args.container), None)
    if c is None:
        raise SpecError("no container %s" % args.container)
    probe = c.get(args.kind + "Probe")
    if not probe:
        raise SpecError("container %s has no %sProbe" % (args.container, args.kind))
    refuse_unknown(probe, {"httpGet", "initialDelaySeconds", "periodSeconds", "timeoutSeconds",
                           "failureThreshold", "successThreshold"}, args.kind + "Probe")
    get = probe["httpGet"]
    refuse_unknown(get, {"host", "path", "port", "scheme"}, args.kind + "Probe httpGet")
    port = get["port"]
    if isinstance(port, str):
        named = [p["containerPort"] for p in c.get("ports") or [] if p.get("name") == port]
        if not named:
            raise SpecError("probe port %s is no named port of %s" % (port, args.container))
        port = named[0]
    # hostNetwork: the pod IP is the node IP; the manifest names a host.
    host = get.get("host") or args.node_ip
    url = "%s://%s:%d%s" % (get.get("scheme", "HTTP").lower(), host, port, get.get("path", "/"))
    r = subprocess.run(["ip", "netns", "exec", args.netns, "curl", "-s", "-o", "/dev/null",
                        "-w", "%{http_code}", "--max-time", str(probe.get("timeoutSeconds", 1)),
                        url], stdout=subprocess.PIPE, text=True)
    code = int(r.stdout or 0)
    print("%s %s %d" % (args.kind, url, code))
    # A kubelet counts 200-399 as success.
    sys.exit(0 if 200 <= code < 400 else 1)


# The mount namespace of a node: its /run (with the machine's /run/netns
# inside, where the pods' namespaces are) and /var/lib are the host root's.
NODE_MOUNTS = """set -e
mkdir -p "$1/run/netns" "$1/var/lib/cni"
mount --rbind /run/netns "$1/run/netns"
mount --rbind "$1/run" /run
mount --rbind "$1/var/lib" /var/lib
shift
exec "$@"
"""


def cmd_cni_add(args):
    inner = [sys.executable, os.path.abspath(__file__), "cni-chain", "--host-root",
             args.host_root, "--pod-netns", args.pod_netns, "--id", args.id]
    argv = ["ip", "netns", "exec", args.netns, "unshare", "--mount", "--propagation", "private",
            "sh", "-c", NODE_MOUNTS, "sh", args.host_root] + inner
    os.execvp(argv[0], argv)


def cmd_cni_chain(args):
    conf_dir = host_path(args.host_root, "/etc/cni/net.d")
    bin_dir = host_path(args.host_root, "/opt/cni/bin")
    names = sorted(n for n in os.listdir(conf_dir)
                   if n.endswith((".conflist", ".conf", ".json")) and not n.startswith("."))
    if not names:
        raise SpecError("no CNI configuration in the node's /etc/cni/net.d")
    with open(os.path.join(conf_dir, names[0])) as f:
        conflist = json.load(f)
    prev = None
    for plugin in conflist["plugins"]:
        conf = dict(plugin, name=conflist["name"], cniVersion=conflist["cniVersion"])
        if prev is not None:
            conf["prevResult"] = prev
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CNI_COMMAND": "ADD",
               "CNI_CONTAINERID": args.id, "CNI_NETNS": args.pod_netns, "CNI_IFNAME": "eth0",
               "CNI_PATH": bin_dir}
        r = subprocess.run([os.path.join(bin_dir, plugin["type"])], input=json.dumps(conf),
                           env=env, stdout=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise SpecError("CNI plugin %s ADD exited %d: %s" % (plugin["type"], r.returncode,
                                                                   r.stdout.strip()))
        prev = json.loads(r.stdout)
    print(json.dumps(prev))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("image")
    p.add_argument("manifest")
    p = sub.add_parser("rbac")
    p.add_argument("manifest")
    p = sub.add_parser("capmask")
    p.add_argument("manifest")
    p.add_argument("container")
    p = sub.add_parser("configmaps")
    p.add_argument("manifest")
    p.add_argument("dir")
    p.add_argument("--network")
    p = sub.add_parser("run-pod")
    p.add_argument("manifest")
    for opt in ("--node", "--node-ip", "--netns", "--host-root", "--configmaps", "--sa-dir",
                "--api", "--prefix", "--image"):
        p.add_argument(opt, required=True)
    p.add_argument("--podman-arg", action="append", default=[], help="global podman option")
    p.add_argument("--run-arg", action="append", default=[], help="podman run option")
    p = sub.add_parser("probe")
    p.add_argument("manifest")
    for opt in ("--netns", "--container", "--node-ip"):
        p.add_argument(opt, required=True)
    p.add_argument("--kind", choices=("readiness", "liveness"), required=True)
    for name in ("cni-add", "cni-chain"):
        p = sub.add_parser(name)
        if name == "cni-add":
            p.add_argument("--netns", required=True)
        for opt in ("--host-root", "--pod-netns", "--id"):
            p.add_argument(opt, required=True)
    args = ap.parse_args()
    try:
        globals()["cmd_" + args.cmd.replace("-", "_")](args)
    except SpecError as e:
        print("kubelet-lite: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
