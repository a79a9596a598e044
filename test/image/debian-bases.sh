#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Makes the Dockerfile's base images, debian:12 and debian:12-slim, locally
# from the Debian mirror, for machines that reach no container registry:
#
#   test/image/debian-bases.sh [--force]
#
# Both are `debootstrap --variant=minbase bookworm` upgraded from
# bookworm-updates and bookworm-security, imported with
# `podman import` as docker.io/library/debian:12 and ...:12-slim, the names
# the Dockerfile's `FROM debian:12` / `FROM debian:12-slim` resolve to. Like
# Docker's official images (debuerreotype) they get apt's sources as
# /etc/apt/sources.list.d/debian.sources (bookworm, -updates, -security),
# apt settings that keep no downloaded .debs and fetch no translations, and
# an empty apt cache and package lists. The slim variant adds dpkg
# path-excludes for documentation, man and info pages and locales (what
# debuerreotype's --slim writes to /etc/dpkg/dpkg.cfg.d/docker) and removes
# those files from the tree.
#
# An image younger than FLANNEL_BASE_MAX_AGE_DAYS (default 7) is kept, so
# repeated builds do not pay debootstrap; --force rebuilds. Nothing is
# created in the network: debootstrap runs on the host, podman only imports.
#
# Env: DEBIAN_MIRROR (default: the first Debian URI in the host's apt
# sources, else http://deb.debian.org/debian).
set -euo pipefail

force=0
[ "${1:-}" = --force ] && force=1
max_age_days=${FLANNEL_BASE_MAX_AGE_DAYS:-7}
suite=bookworm

if [ "$(id -u)" -ne 0 ]; then
	echo "debian-bases.sh: debootstrap needs root" >&2
	exit 1
fi

host_mirror() {
	local uri
	uri=$(grep -hoE '^(URIs:[[:space:]]*|deb[[:space:]]+)[a-z]+://[^[:space:]]+/debian/?([[:space:]]|$)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
		2>/dev/null | head -n 1 | awk '{print $NF}') || true
	echo "${uri:-http://deb.debian.org/debian}"
}
mirror=${DEBIAN_MIRROR:-$(host_mirror)}
mirror=${mirror%/}
security=${mirror%/debian}/debian-security

# fresh NAME: the image exists and is younger than max_age_days.
fresh() {
	local created
	podman image exists "$1" || return 1
	created=$(podman image inspect --format '{{.Created.Unix}}' "$1") || return 1
	[ $(($(date +%s) - created)) -lt $((max_age_days * 86400)) ]
}

# tweak ROOT: the parts of debuerreotype's minimising the two images share.
tweak() {
	local root=$1
	rm -f "$root/etc/apt/sources.list"
	cat >"$root/etc/apt/sources.list.d/debian.sources" <<-EOF
		Types: deb
		URIs: $mirror
		Suites: $suite $suite-updates
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

		Types: deb
		URIs: $security
		Suites: $suite-security
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	cat >"$root/etc/apt/apt.conf.d/docker-clean" <<-'EOF'
		DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
		APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
		Dir::Cache::pkgcache "";
		Dir::Cache::srcpkgcache "";
	EOF
	echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
	echo 'Apt::AutoRemove::SuggestsImportant "false";' \
		>"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
	# debootstrap takes the point release; the official images carry the
	# -updates and -security packages too. /proc only in a mount namespace
	# of its own, gone with it.
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	unshare --mount --propagation private sh -c '
		mount -t proc proc "$1/proc"
		chroot "$1" apt-get update -q
		chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get -y -q upgrade
	' sh "$root" >>"$work/debootstrap.log" 2>&1 || {
		tail -n 30 "$work/debootstrap.log" >&2
		exit 1
	}
	# No daemon starts inside an image build.
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	: >"$root/etc/hostname"
	: >"$root/etc/resolv.conf"
	rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
		"$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log \
		"$root"/var/log/apt/* "$root"/tmp/* "$root"/var/tmp/*
}

# slim ROOT: debuerreotype's --slim: dpkg excludes, then the excluded files go.
slim() {
	local root=$1
	cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<-'EOF'
		# This is the "slim" variant of the Debian base image.
		path-exclude /usr/share/doc/*
		path-include /usr/share/doc/*/copyright
		path-exclude /usr/share/info/*
		path-exclude /usr/share/linda/*
		path-exclude /usr/share/lintian/overrides/*
		path-exclude /usr/share/locale/*
		path-exclude /usr/share/man/*
		path-exclude /usr/share/groff/*
	EOF
	find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
	find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
	rm -rf "$root"/usr/share/info/* "$root"/usr/share/linda/* \
		"$root"/usr/share/lintian/overrides/* "$root"/usr/share/locale/* \
		"$root"/usr/share/man/* "$root"/usr/share/groff/*
}

# import ROOT NAME
import() {
	tar -C "$1" --numeric-owner --xattrs -c . |
		podman import --quiet \
			--change 'CMD ["bash"]' \
			--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
			- "$2" >/dev/null
}

full=docker.io/library/debian:12
slimname=docker.io/library/debian:12-slim
if [ $force = 0 ] && fresh "$full" && fresh "$slimname"; then
	echo "debian-bases: $full and $slimname are younger than ${max_age_days} days, kept"
	exit 0
fi

command -v debootstrap >/dev/null || {
	echo "debian-bases.sh: debootstrap missing (apt-get install debootstrap)" >&2
	exit 1
}
work=$(mktemp -d /var/tmp/flannel-debian-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "debian-bases: debootstrap --variant=minbase $suite from $mirror"
debootstrap --variant=minbase "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
	tail -n 30 "$work/debootstrap.log" >&2
	exit 1
}
tweak "$work/root"
import "$work/root" "$full"
slim "$work/root"
import "$work/root" "$slimname"
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^docker.io/library/debian:12'
