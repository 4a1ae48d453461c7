#!/usr/bin/env python3
"""The layering, checked: every target's declared dependencies (from `swift package describe`) must be
allowed by the policy below, and every `import` in its sources must be a declared dependency or a
toolchain module. Prints the graph. Exit 1 on any violation, naming the file and what to do.

The policy is the architecture: HookKit knows nothing; HookSpec is pure; the Reconciler core knows no
provider, transport or daemon; the HTTP target knows nothing of webhooks; no provider imports another
provider or serve; only the CLI (the composition root) and the benchmark see everything.
"""
import json
import os
import re
import subprocess
import sys

TOOLCHAIN = {"Foundation", "FoundationNetworking", "FoundationEssentials", "Glibc", "Dispatch", "Synchronization", "Testing", "XCTest"}

ALLOWED = {
    "HookKit": set(),
    "HookSpec": {"HookKit"},
    "Reconciler": {"HookSpec", "HookKit"},
    "HTTP1": {"HookKit"},
    "Delivery": {"Reconciler", "HookSpec", "HTTP1", "HookKit"},
    "LocalRegistry": {"Reconciler", "Delivery", "HookSpec", "HookKit"},
    "AzureRegistry": {"Reconciler", "HookSpec", "HookKit"},
    "Serve": {"Reconciler", "Delivery", "HTTP1", "HookSpec", "HookKit"},
    # The GitOps loop: reconciles what the CLI hands it; never a provider, never serve.
    "Controller": {"Reconciler", "Delivery", "HTTP1", "HookSpec", "HookKit"},
    "HookApplyCLI": {"HookSpec", "HookKit", "Reconciler", "Delivery", "LocalRegistry", "AzureRegistry", "Serve", "Controller", "HTTP1"},
    "hookapply": {"HookApplyCLI"},
    # Test doubles fake the seams; they never see a provider, serve or the CLI.
    "TestSupport": {"HookSpec", "HookKit", "Reconciler", "HTTP1"},
}
PRODUCT_ONLY = {"hookapply-bench"}  # sees everything, by design: it measures the product end to end


def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    described = subprocess.run(["swift", "package", "describe", "--type", "json"], cwd=root, capture_output=True, text=True)
    if described.returncode != 0:
        print("check-imports: 'swift package describe' failed:\n" + described.stderr, file=sys.stderr)
        return 1
    targets = {t["name"]: t for t in json.loads(described.stdout)["targets"]}
    problems = []
    print("target graph (declared dependencies):")
    for name in sorted(targets, key=lambda n: (targets[n]["type"] == "test", n)):
        target = targets[name]
        deps = set(target.get("target_dependencies") or [])
        print(f"  {name} <- {', '.join(sorted(deps)) or '(toolchain only)'}")
        if target["type"] == "test" or name in PRODUCT_ONLY:
            allowed = None
        elif name not in ALLOWED:
            problems.append(f"{name}: a new target; add it to ALLOWED in scripts/check-imports.py with the layers it may use")
            continue
        else:
            allowed = ALLOWED[name]
        if allowed is not None:
            for dep in sorted(deps - allowed):
                problems.append(f"{name} depends on {dep}, which its layer must not use (Package.swift)")
        if target["type"] == "test":
            for dep in sorted(deps & {"hookapply-bench"}):
                problems.append(f"{name} depends on the benchmark")
        for folder, _, files in os.walk(os.path.join(root, target["path"])):
            for file in files:
                if not file.endswith(".swift"):
                    continue
                path = os.path.join(folder, file)
                in_literal = False
                for number, line in enumerate(open(path, encoding="utf-8"), 1):
                    # Lines inside a multi-line string literal ('"""') are text, not Swift (the benchmark
                    # holds a Python receiver's source): an `import` there is none of ours.
                    was_in_literal = in_literal
                    if line.count('"""') % 2 == 1:
                        in_literal = not in_literal
                    if was_in_literal:
                        continue
                    match = re.match(r"\s*(?:@testable\s+)?import\s+(?:struct\s+|class\s+|enum\s+|func\s+)?([A-Za-z_][A-Za-z0-9_]*)", line)
                    if not match:
                        continue
                    module = match.group(1)
                    if module in TOOLCHAIN or module in deps:
                        continue
                    problems.append(f"{os.path.relpath(path, root)}:{number}: imports {module}, which target {name} does not declare; "
                                    + ("declare it in Package.swift if the layering allows it" if allowed is None or module in allowed
                                       else "that import crosses the layering: move the code, or put what both need in a lower target"))
    if problems:
        print("\nimport check failed:", file=sys.stderr)
        for problem in problems:
            print("  " + problem, file=sys.stderr)
        return 1
    print("import check: every target and every import follows the layering")
    return 0


if __name__ == "__main__":
    sys.exit(main())
