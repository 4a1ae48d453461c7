#!/usr/bin/env bash
# Validates the deployment files: each Kubernetes variant, rendered, with kubernetes-validate (strict: unknown fields
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

# Each variant rendered as `kubectl apply -k` would see it: with kubectl where it is installed, else by
# resolving the kustomizations' resources here (the only feature they use). Then validated strictly.
rendered="$(mktemp -d)"
trap 'rm -rf "$rendered"' EXIT
for variant in deployment cronjob; do
  if command -v kubectl >/dev/null; then
    kubectl kustomize "deploy/kubernetes/$variant" > "$rendered/$variant.yaml"
  else
    "$venv/bin/python" - "deploy/kubernetes/$variant" > "$rendered/$variant.yaml" <<'PY'
import os, sys, yaml
def render(folder):
    kustomization = yaml.safe_load(open(os.path.join(folder, "kustomization.yaml")))
    unknown = set(kustomization) - {"apiVersion", "kind", "resources"}
    if unknown:
        sys.exit(f"{folder}/kustomization.yaml uses {sorted(unknown)}; install kubectl to render it")
    documents = []
    for resource in kustomization["resources"]:
        path = os.path.join(folder, resource)
        if os.path.isdir(path):
            documents += render(path)
        elif os.path.exists(path):
            documents += [d for d in yaml.safe_load_all(open(path)) if d]
        else:
            sys.exit(f"{folder}/kustomization.yaml lists {resource}, which does not exist")
    return documents
print(yaml.safe_dump_all(render(sys.argv[1]), sort_keys=False))
PY
  fi
  "$venv/bin/kubernetes-validate" --strict --quiet "$rendered/$variant.yaml"
  echo "kubernetes variant '$variant' ($(grep -c '^kind:' "$rendered/$variant.yaml") objects): valid (strict)"
done
# No variant runs the loop and the drift check together.
if grep -q '^kind: CronJob' "$rendered/deployment.yaml" || grep -q '^kind: Deployment' "$rendered/cronjob.yaml"; then
  echo "validate-deploy: a variant holds both the Deployment and the CronJob" >&2
  exit 1
fi
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows examples/ci/github-actions.yml .github/workflows/*.yml

echo "deployment files: valid"
