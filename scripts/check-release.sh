#!/usr/bin/env bash
# Proves the release tarball is usable as a user gets it: in an empty folder, verify the checksum,
# extract, and run `version` and the example plan with an empty environment (env -i: no PATH, no HOME,
# no Swift toolchain on the way).
set -euo pipefail
cd "$(dirname "$0")/.."
tarball="$(ls dist/hookapply-*-linux-*.tar.gz | head -1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$tarball" dist/SHA256SUMS "$work/"
cd "$work"
sha256sum -c SHA256SUMS
tar -xzf "$(basename "$tarball")"
folder="$(basename "$tarball" .tar.gz)"
for file in hookapply LICENSE README.md man/man1/hookapply.1 completions/hookapply.bash completions/_hookapply completions/hookapply.fish examples/webhooks.json; do
  [ -e "$folder/$file" ] || { echo "check-release: $folder/$file is missing" >&2; exit 1; }
done
cd "$folder"
env -i ./hookapply version
output="$(env -i ./hookapply plan -f examples/webhooks.json)"
echo "$output" | tail -1
echo "$output" | grep -q "^Plan: " || { echo "check-release: the example plan did not print a plan" >&2; exit 1; }
env -i ./hookapply apply -f examples/webhooks.json --auto-approve | tail -1
env -i ./hookapply plan -f examples/webhooks.json --detailed-exitcode | tail -1
[ -f .hookapply/dev.json ] || { echo "check-release: the example's local registry is not inside the extracted folder" >&2; exit 1; }
echo "release check: checksum verified, extracted; version, the example plan, apply and a converged plan ran with env -i"
echo "binary: $(du -h hookapply | cut -f1); tarball: $(du -h "$work/$(basename "$tarball")" | cut -f1); libraries:"
ldd ./hookapply | awk '{print "  " $1}'
