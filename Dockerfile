# SPDX-License-Identifier: Apache-2.0
#
# Container image of flannel (C implementation): flanneld plus the CNI plugin
# and its installer, as used by manifests/kube-flannel.yml.
#
#   docker build -t ghcr.io/flannel-c/flannel:v0.1.0 .
#   test/image/build      (podman, no registry needed: see README.md)
#
# The image is laid out by the project's own CMake install rules (the same
# ones a host install uses), installed with prefix /usr into /out and copied
# over the runtime image:
#   /usr/bin/flanneld                      agent, ENTRYPOINT
#   /usr/libexec/flannel/flannel           CNI plugin (static) + `install`
#   /usr/share/flannel/kube-flannel.yml    the manifest
#
# The agent runs as root: it needs CAP_NET_ADMIN and CAP_NET_RAW, which a
# non-root user loses at exec. The manifest therefore runs it as uid 0 with
# every other capability dropped, not privileged, read-only root filesystem.

FROM debian:12 AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config \
        libcurl4-openssl-dev libcjson-dev libnl-3-dev libnl-route-3-dev \
        libssl-dev \
    && rm -rf /var/lib/apt/lists/*
COPY . /src
WORKDIR /src
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
        -DFLANNEL_TESTS=OFF -DFLANNEL_WERROR=ON \
    && cmake --build build -j"$(nproc)" \
    && DESTDIR=/out cmake --install build --strip

FROM debian:12-slim
# iptables: Debian 12's default is the nf_tables variant (iptables-nft), the
# one current distributions and kube-proxy use; nftables for EnableNFTables;
# wireguard-go for the wireguard backend on kernels without WireGuard.
# The rest are the shared libraries flanneld links (the CNI plugin is static;
# libssl3 for libcrypto: X25519 WireGuard keys).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        iptables nftables ca-certificates wireguard-go \
        libcurl4 libcjson1 libnl-3-200 libssl3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=builder /out/ /
LABEL org.opencontainers.image.title="flannel" \
      org.opencontainers.image.description="flannel overlay network agent and CNI plugin (C implementation)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="0.1.0"
ENTRYPOINT ["/usr/bin/flanneld"]
