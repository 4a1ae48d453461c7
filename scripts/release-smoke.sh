#!/usr/bin/env bash
# Release-mode smoke test. `swift test` builds in debug, but with Swift 6.3.1 on Linux a task-group
# pattern corrupted memory only in release builds (see Sources/HookKit/ConcurrentForEach.swift).
# This runs the concurrent paths at scale in a release build: a plan across 100 local registries
# (the benchmark) and an apply across 20 registries, which must converge to an empty plan.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release 2>&1 | tail -1
HOOKAPPLY_BENCH_REGISTRIES=100 .build/release/hookapply-bench --only plan --runs 1 > /tmp/hookapply-smoke-bench.txt
grep -q "changes planned: 5000" /tmp/hookapply-smoke-bench.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/webhooks.json" <<'PY'
import json, sys
registries = []
for r in range(20):
    hooks = [{"name": f"hook{h}x", "serviceUri": f"https://h{h % 7}.example.com/{r}/{h}?code=${{env:KEY:-k}}",
              "customHeaders": {"Authorization": "Bearer ${env:T:-token}"}, "actions": ["push", "delete"],
              "scope": f"team{h % 13}/app{h}:*"} for h in range(100)]
    registries.append({"name": f"reg{r}", "local": {}, "webhooks": hooks})
json.dump({"version": 1, "owner": "smoke", "registries": registries}, open(sys.argv[1], "w"))
PY
(cd "$work" && "$OLDPWD/.build/release/hookapply" apply --auto-approve --parallelism 16 > apply.txt)
grep -q "Apply complete: 2000 created, 0 updated, 0 deleted." "$work/apply.txt"
(cd "$work" && "$OLDPWD/.build/release/hookapply" plan --detailed-exitcode > /dev/null)
# The end-to-end suites (local registry, Azure over loopback HTTP, applier, convergence) in release mode.
swift test -c release -Xswiftc -enable-testing --filter "AzureCommandTests|ReconcileCommandTests|ApplierTests|ConvergenceTests|DeliveryEngineTests|ServeServiceTests|ServeSocketFuzzTests|PlainHTTPClientTests|HTTPServerTests|HTTPServerHardeningTests|WebhookIndexTests|JSONTextTests|CompactJSONTests|LockedTests|SafetyTests|LeakTests|SignalTests|SecretScrubberFormsTests|ReconcileLoopTests|ReconcileLoopEndToEndTests" 2>&1 | grep -E "✘|Test run"
echo "release smoke: concurrent plan (100 registries), apply (20 x 100) and the end-to-end suites passed in release mode"
