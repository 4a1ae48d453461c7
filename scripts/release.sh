#!/usr/bin/env bash
# Builds what a release ships: dist/hookapply-<version>-linux-<arch>.tar.gz and dist/SHA256SUMS.
#
# The tarball holds the binary (built with --static-swift-stdlib: no Swift toolchain needed where it
# runs), LICENSE, README, the man page, the bash, zsh and fish completion scripts, and an example spec
# whose local registry stays inside the extracted folder. At run time the binary still needs glibc 2.36
# or newer (Debian 12) and libcurl4 (FoundationNetworking loads it for https). A fully static (musl)
# build needs Swift's static Linux SDK, which cannot be fetched on these offline machines.
#
# Build-time requirement: libcurl4-openssl-dev (the static link of FoundationNetworking needs it).
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --static-swift-stdlib --product hookapply
binary="$(swift build -c release --static-swift-stdlib --show-bin-path)/hookapply"
version="$("$binary" version | awk '{print $2}')"
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch="$(uname -m)" ;;
esac
name="hookapply-${version}-linux-${arch}"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/$name"
mkdir -p "$root/completions" "$root/examples" "$root/man/man1"
install -m 0755 "$binary" "$root/hookapply"
strip "$root/hookapply" 2>/dev/null || true
cp LICENSE README.md "$root/"
cp docs/hookapply.1 "$root/man/man1/hookapply.1"
"$binary" completion bash > "$root/completions/hookapply.bash"
"$binary" completion zsh > "$root/completions/_hookapply"
"$binary" completion fish > "$root/completions/hookapply.fish"
# The example's local registries default to .hookapply/ beside the spec: inside the extracted folder.
cp examples/webhooks.json "$root/examples/webhooks.json"

mkdir -p dist
rm -f "dist/$name.tar.gz" dist/SHA256SUMS
# Reproducible: sorted names, no owner, the commit's time on every file.
epoch="$(git log -1 --format=%ct 2>/dev/null || echo 0)"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$stage" -czf "dist/$name.tar.gz" "$name"
(cd dist && sha256sum "$name.tar.gz" > SHA256SUMS)
echo "release: dist/$name.tar.gz ($(du -h "dist/$name.tar.gz" | cut -f1)), dist/SHA256SUMS"
