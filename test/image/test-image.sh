#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What the built image holds (test/image/build makes it): the agent and its
# version, the CNI plugin (static) and its VERSION, the installer, every
# shared library of every program the agent runs resolving, iptables (the
# nf_tables variant) and nft, and nothing of the build: no compiler, no
# headers. Prints the image's size. Containers run with --network none.
#
# Env: FLANNEL_IMAGE (default: the manifest's image).
set -euo pipefail
SRC_DIR=${SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=test/image/podman-lib.sh
. "$SRC_DIR/test/image/podman-lib.sh"
MANIFEST=$SRC_DIR/manifests/kube-flannel.yml
IMAGE=${FLANNEL_IMAGE:-$(python3 "$SRC_DIR/test/image/kubelet-lite.py" image "$MANIFEST")}
WORK=$(mktemp -d /tmp/flannel-image-check.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() { echo "ok: $*"; }
# in_image ENTRYPOINT [ARGS...]: run a program of the image, no network.
in_image() {
	local entry=$1
	shift
	"${PODMAN[@]}" run --rm -i "${PODMAN_RUN[@]}" --network none --pull never \
		--entrypoint "$entry" "$IMAGE" "$@"
}

"${PODMAN[@]}" image exists "$IMAGE" || fail "image $IMAGE not built (test/image/build $IMAGE)"

version=$(sed -n 's/^project(flannel-c VERSION \([0-9.]*\).*/\1/p' "$SRC_DIR/CMakeLists.txt")
entry=$("${PODMAN[@]}" image inspect --format '{{json .Config.Entrypoint}}' "$IMAGE")
[ "$entry" = '["/usr/bin/flanneld"]' ] || fail "ENTRYPOINT $entry"
# flanneld --version: upstream prints it to stderr, one line.
"${PODMAN[@]}" run --rm "${PODMAN_RUN[@]}" --network none --pull never "$IMAGE" --version \
	>"$WORK/version.out" 2>"$WORK/version.err" || fail "flanneld --version exited non-zero"
printf '%s\n' "$version" | cmp -s - "$WORK/version.err" ||
	fail "flanneld --version printed '$(od -c "$WORK/version.err")', want '$version' and a newline"
[ ! -s "$WORK/version.out" ] || fail "flanneld --version wrote to stdout: $(cat "$WORK/version.out")"
ok "ENTRYPOINT /usr/bin/flanneld, --version $version"

out=$(echo '{}' | in_image /usr/bin/env CNI_COMMAND=VERSION /usr/libexec/flannel/flannel) ||
	fail "CNI plugin VERSION exited non-zero"
python3 - "$out" <<-'EOF' || fail "CNI plugin VERSION: $out"
	import json, sys
	v = json.loads(sys.argv[1])
	sys.exit(not {"0.3.1", "1.0.0"} <= set(v["supportedVersions"]))
EOF
ok "CNI plugin VERSION: $out"

# The installer, as the init container runs it, into a scratch "host".
mkdir -p "$WORK/cfg" "$WORK/host/bin" "$WORK/host/conf"
python3 "$SRC_DIR/test/image/kubelet-lite.py" configmaps "$MANIFEST" "$WORK/cfg"
"${PODMAN[@]}" run --rm "${PODMAN_RUN[@]}" --network none --pull never \
	-v "$WORK/host:/host" -v "$WORK/cfg:/cfg:ro" --entrypoint /usr/libexec/flannel/flannel "$IMAGE" \
	install --cni-bin-dir /host/bin --cni-conf-dir /host/conf \
	--conflist /cfg/kube-flannel-cfg/cni-conf.json >"$WORK/install.log" 2>&1 ||
	fail "flannel install: $(cat "$WORK/install.log")"
[ -x "$WORK/host/bin/flannel" ] || fail "installer left no executable plugin"
file_type=$(LC_ALL=C readelf -h "$WORK/host/bin/flannel" | awk '/Type:/ {print $2}')
[ "$file_type" = EXEC ] || [ "$file_type" = DYN ] || fail "installed plugin is not an ELF program"
! readelf -d "$WORK/host/bin/flannel" 2>/dev/null | grep -q NEEDED ||
	fail "installed plugin links shared libraries; it must be static (it runs on the host)"
python3 -c 'import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:]); sys.exit(a!=b)' \
	"$WORK/host/conf/10-flannel.conflist" "$WORK/cfg/kube-flannel-cfg/cni-conf.json" ||
	fail "installed conflist differs from the ConfigMap's cni-conf.json"
ok "installer: static plugin and conflist installed"

# Every program the agent runs, and the agent: all libraries resolve; the
# iptables programs are the nf_tables variant.
programs=(/usr/bin/flanneld /usr/sbin/iptables-restore /usr/sbin/iptables-save
	/usr/sbin/ip6tables-restore /usr/sbin/ip6tables-save /usr/sbin/nft)
in_image /bin/sh -c '
	for p in "$@"; do
		[ -x "$p" ] || { echo "missing $p"; exit 1; }
		out=$(ldd "$p") || { echo "ldd $p failed"; exit 1; }
		if echo "$out" | grep -q "not found"; then echo "$p: $out"; exit 1; fi
	done
	iptables-restore --version | grep -q "(nf_tables)" || { echo "iptables is not iptables-nft"; exit 1; }
	ip6tables-restore --version | grep -q "(nf_tables)" || { echo "ip6tables is not ip6tables-nft"; exit 1; }
	nft --version >/dev/null
' sh "${programs[@]}" >"$WORK/libs.log" 2>&1 || fail "$(cat "$WORK/libs.log")"
ok "shared libraries of ${programs[*]} resolve; iptables is the nf_tables variant"

# Nothing of the build: the runtime stage is debian:12-slim plus run-time packages.
in_image /bin/sh -c '
	for p in /usr/bin/gcc /usr/bin/cc /usr/bin/cmake /usr/bin/make /usr/bin/pkg-config \
		/usr/include/curl /usr/include/libnl3 /src /out; do
		[ ! -e "$p" ] || { echo "build leftover in the image: $p"; exit 1; }
	done
	if dpkg-query -W -f "\${Package}\n" | grep -E -- "-dev$"; then echo "-dev packages installed"; exit 1; fi
' >"$WORK/lean.log" 2>&1 || fail "$(cat "$WORK/lean.log")"
ok "no compiler, headers, -dev packages or sources in the image"

size=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")
echo "image $IMAGE: $((size / 1000000)) MB"
