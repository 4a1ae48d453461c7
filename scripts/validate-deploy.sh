#!/usr/bin/env bash
# Validates the deployment files: Kubernetes manifests with kubernetes-validate (strict: unknown fields
# fail), the GitHub Actions workflows (the example and the repository's own) with check-jsonschema's
# vendored workflow schema, and the
# kustomization's resource list. (The hookapply command lines in these files are checked against the
# option tables by DeployFilesTests.) The validators come from PyPI into a throwaway virtualenv; they
# are CI tools, never product dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${HOOKAPPLY_CI_VENV:-${TMPDIR:-/tmp}/hookapply-ci-venv}"

if [ ! -x "$venv/bin/kubernetes-validate" ] || [ ! -x "$venv/bin/check-jsonschema" ]; then
  python3 -m venv "$venv"
  for attempt in 1 2 3; do
    if "$venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate check-jsonschema; then break; fi
    echo "validate-deploy: pip install failed (attempt $attempt)" >&2
    [ "$attempt" = 3 ] && exit 1
    sleep 5
  done
fi

manifests=$(ls deploy/kubernetes/*.yaml | grep -v kustomization.yaml)
# shellcheck disable=SC2086
"$venv/bin/kubernetes-validate" --strict --quiet $manifests
echo "kubernetes manifests: valid (strict) against Kubernetes $("$venv/bin/kubernetes-validate" --version 2>/dev/null | tail -1 || echo '?')"
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows examples/ci/github-actions.yml .github/workflows/*.yml

"$venv/bin/python" - <<'PY'
import os, sys, yaml
problems = []
# The kustomization lists files that exist.
kustomization = yaml.safe_load(open("deploy/kubernetes/kustomization.yaml"))
for resource in kustomization["resources"]:
    if not os.path.exists(os.path.join("deploy/kubernetes", resource)):
        problems.append(f"kustomization.yaml lists {resource}, which does not exist")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
PY
echo "deployment files: valid"
