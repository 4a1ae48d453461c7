#!/usr/bin/env python3
"""Cross-checks schema/hookapply.schema.json against the validation table that `hookapply validate`
is tested with (Tests/HookSpecTests/Fixtures/spec-cases.json, written by SpecSchemaAgreementTests),
using Python's jsonschema: a spec validate accepts must pass, one the table marks schemaRefuses must
fail. Every pattern must also compile as Python `re` and, when node is installed, as a JavaScript
RegExp with the 'u' flag (JSON Schema's dialect), so editors of either kind read the schema alike."""
import json
import os
import re
import shutil
import subprocess
import sys

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
schema = json.load(open(os.path.join(ROOT, "schema", "hookapply.schema.json")))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
cases = json.load(open(os.path.join(ROOT, "Tests", "HookSpecTests", "Fixtures", "spec-cases.json")))
failures = []
for case in cases:
    errors = list(validator.iter_errors(json.loads(case["spec"])))
    if case["valid"] and errors:
        failures.append(f"{case['name']}: validate accepts it, jsonschema refuses it: {errors[0].message}")
    if case["schemaRefuses"] and not errors:
        failures.append(f"{case['name']}: validate refuses it ({', '.join(case['codes'])}), jsonschema accepts it")

patterns = []
def walk(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                patterns.append(value)
            walk(value)
    elif isinstance(node, list):
        for value in node:
            walk(value)
walk(schema)
for pattern in patterns:
    re.compile(pattern)
node = shutil.which("node") or shutil.which("nodejs")
if node:
    script = "const ps = JSON.parse(require('fs').readFileSync(0, 'utf8')); for (const p of ps) new RegExp(p, 'u'); console.log(ps.length + ' patterns compile as JavaScript RegExp (u)')"
    result = subprocess.run([node, "-e", script], input=json.dumps(patterns), capture_output=True, text=True)
    if result.returncode != 0:
        failures.append("a pattern does not compile in JavaScript: " + result.stderr.strip().splitlines()[-1])
    else:
        print(result.stdout.strip())
else:
    print("node not installed: JavaScript RegExp check skipped")
for failure in failures:
    print("FAIL:", failure, file=sys.stderr)
print(f"{len(cases)} table cases checked with jsonschema; {len(patterns)} patterns compile in Python")
sys.exit(1 if failures else 0)
