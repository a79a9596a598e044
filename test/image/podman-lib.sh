# SPDX-License-Identifier: Apache-2.0
# How to call podman on this machine, for test/image/build and the image tests.
# Sourced; sets three arrays:
#   PODMAN_GLOBAL  podman's global options here
#   PODMAN         podman with them
#   PODMAN_RUN     options every `podman run` needs here
#
# crun, podman's default runtime on Debian 12, refuses hybrid cgroup
# hierarchies (cgroup v1 controllers plus a cgroup2 mount at
# /sys/fs/cgroup/unified); runc accepts them. Without CAP_SYS_RESOURCE podman's
# default limits (nofile 1048576) cannot be set, so explicit ones are given.
PODMAN_GLOBAL=()
if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ] &&
	[ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
	command -v runc >/dev/null || {
		echo "podman-lib: hybrid cgroups need runc (apt-get install runc)" >&2
		exit 1
	}
	PODMAN_GLOBAL+=(--runtime runc)
fi
PODMAN=(podman "${PODMAN_GLOBAL[@]}")
PODMAN_RUN=()
cap_eff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
if (((0x$cap_eff >> 24) & 1)); then :; else # CAP_SYS_RESOURCE is bit 24
	PODMAN_RUN+=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
fi
unset cap_eff
