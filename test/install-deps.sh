#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian 12 package the build, the tests, the demo and the
# benchmarks need. Safe to run again; used by .ci/run, test/run and the demo.
set -euo pipefail

PACKAGES=(
	# toolchain
	build-essential cmake pkg-config git ca-certificates
	clang libclang-rt-14-dev clang-format
	# libraries
	libcurl4-openssl-dev libcjson-dev libnl-3-dev libnl-route-3-dev libssl-dev
	libcmocka-dev
	# tests, demo, benchmarks
	python3 python3-yaml python3-kubernetes openssl iproute2 iputils-ping procps kmod curl
	iptables nftables containernetworking-plugins etcd-server etcd-client iperf3 strace
	# the container image (test/image/): podman, its base images from debootstrap,
	# runc for hosts with hybrid cgroup hierarchies, which crun refuses
	podman runc debootstrap
	# the wireguard backend's userspace implementation; wg and tcpdump to inspect it
	wireguard-go wireguard-tools tcpdump
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
