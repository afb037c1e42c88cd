#!/bin/sh
# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Build (or reuse) localhost/postfix-lab:<suite> from debootstrap.
# The image carries a label with the hash of this recipe; it is rebuilt only
# when the recipe changes, so re-running is a no-op when the image is current.
set -eu
SUITE=${1:-bookworm}
MIRROR=${LAB_MIRROR:-http://deb.debian.org/debian}
WORK=${LAB_WORKDIR:-/var/tmp/postfix-remedy-lab}
HERE=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$HERE/containers.conf}"
PACKAGES=python3,postfix,openssh-server,sudo,systemd,postfix-lmdb,postfix-cdb,postfix-pcre,ca-certificates,iproute2,procps,dnsmasq-base,openssl,sasl2-bin,libsasl2-modules,dovecot-core,bind9-dnsutils,gzip,prometheus-node-exporter
# prometheus-node-exporter: its textfile collector reads the metrics the toolkit writes (tests/molecule/metrics);
# about 13 MB and a few seconds of the build.
IMAGE=localhost/postfix-lab:$SUITE
RECIPE=$( (cat "$0"; echo "$SUITE $PACKAGES") | sha256sum | cut -c1-16)

case $SUITE in
  bullseye|bookworm|trixie) ;;
  *) echo "unsupported suite: $SUITE (bullseye, bookworm, trixie)" >&2; exit 2 ;;
esac

have=$(podman image inspect --format '{{ index .Config.Labels "io.postfix-remedy.recipe" }}' "$IMAGE" 2>/dev/null || true)
if [ "$have" = "$RECIPE" ]; then
  echo "$IMAGE is current (recipe $RECIPE)"
  exit 0
fi

ROOTFS=$WORK/rootfs-$SUITE
rm -rf "$ROOTFS"
mkdir -p "$WORK"
echo "building $IMAGE with debootstrap (about a minute)"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap-$SUITE.log" 2>&1 || {
  tail -n 30 "$WORK/debootstrap-$SUITE.log" >&2; exit 1; }
# Keep the image small and the apt state clean.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
tar -C "$ROOTFS" -c . | podman import \
  --change "LABEL io.postfix-remedy.recipe=$RECIPE" \
  --change "LABEL io.postfix-remedy.suite=$SUITE" \
  --change 'CMD ["sleep", "infinity"]' - "$IMAGE" >/dev/null
rm -rf "$ROOTFS"
echo "built $IMAGE (recipe $RECIPE)"
