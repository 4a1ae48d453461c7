#!/usr/bin/env bash
# Builds the hookapply container image with buildah.
#
#   scripts/build-image.sh            the Dockerfile: needs registry access for swift:6.3-bookworm and
#                                     debian:bookworm-slim
#   scripts/build-image.sh --offline  no registry: builds the binary here (--static-swift-stdlib; needs
#                                     libcurl4-openssl-dev for the link) and assembles an image from
#                                     scratch with the binary, the shared libraries it links, CA
#                                     certificates and git, then runs 'hookapply version' inside it.
# Storage is vfs with chroot isolation, so it works inside an unprivileged CI container.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v buildah >/dev/null || { echo "build-image: buildah is not installed (apt-get install buildah)" >&2; exit 1; }
version=$(sed -n 's/.*public static let version = "\(.*\)".*/\1/p' Sources/HookKit/Product.swift)
export BUILDAH_ISOLATION=chroot STORAGE_DRIVER=vfs

if [ "${1:-}" != "--offline" ]; then
  buildah bud --layers -f Dockerfile -t "hookapply:$version" .
  echo "built hookapply:$version from the Dockerfile"
  exit 0
fi

build=${TMPDIR:-/tmp}/hookapply-image-build
swift build -c release --static-swift-stdlib --product hookapply --build-path "$build"
binary="$build/release/hookapply"
container=$(buildah from scratch)
trap 'buildah rm "$container" >/dev/null 2>&1 || true' EXIT
root=$(buildah mount "$container")
install -D -m 0755 "$binary" "$root/usr/local/bin/hookapply"
# Every shared library the binary (and git) load, at the path the loader looks for it.
git_binary=$(command -v git || true)
for library in $( (ldd "$binary"; [ -n "$git_binary" ] && ldd "$git_binary") | awk '/=>/ { print $3 } /^\t\/lib/ { print $1 }' | sort -u); do
  install -D "$library" "$root$library"
done
[ -n "$git_binary" ] && install -D -m 0755 "$git_binary" "$root/usr/bin/git"
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
mkdir -p "$root/tmp" && chmod 1777 "$root/tmp"
printf 'root:x:0:0::/root:/sbin/nologin\nhookapply:x:65532:65532::/nonexistent:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nhookapply:x:65532:\n' > "$root/etc/group"
buildah umount "$container" >/dev/null
# The image runs: the binary starts inside it with only what was copied (buildah run mounts /proc,
# which Swift reads its arguments from on Linux).
buildah run "$container" -- /usr/local/bin/hookapply version
buildah run "$container" -- /usr/bin/git --version
buildah config --user 65532:65532 --entrypoint '["/usr/local/bin/hookapply"]' --cmd 'reconcile --listen 0.0.0.0:9090' \
  --label org.opencontainers.image.version="$version" "$container"
buildah commit --quiet "$container" "hookapply:$version"
echo "built hookapply:$version from scratch ($(buildah images --format '{{.Size}}' "hookapply:$version"))"
