#!/usr/bin/env python3
"""Cross-checks hookapply's real JSON outputs against schema/hookapply-<command>.schema.json with
Python's jsonschema (an implementation written by someone else; the Swift tests use SchemaCheck).

Usage: scripts/check-output-schemas.py PATH/TO/hookapply
Runs the binary in a temporary folder against the embedded local registry and a loopback receiver,
and exits 1 naming every output that breaks its schema."""
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status = 500 if self.path.startswith("/fail") else 200
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def make_dead_letter(binary, folder, environment):
    """Runs serve with one attempt per delivery and gives it an event failhook refuses: a dead letter."""
    import re
    import signal
    import time
    import urllib.request
    serve = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--max-attempts", "1"], cwd=folder, env=environment,
                             stderr=subprocess.PIPE, text=True)
    try:
        port = None
        for line in serve.stderr:
            match = re.search(r"127\.0\.0\.1:(\d+)/events", line)
            if match:
                port = int(match.group(1))
                break
        event = {"events": [{"id": "dead-1", "timestamp": "2026-11-29T00:00:00Z", "action": "push",
                             "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1, "digest": "sha256:1",
                                        "length": 1, "repository": "web", "tag": "v1"},
                             "request": {"id": "r", "host": "h", "method": "PUT", "useragent": "u"}}]}
        request = urllib.request.Request(f"http://127.0.0.1:{port}/events", data=json.dumps(event).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        urllib.request.urlopen(request, timeout=10).read()
        dead = os.path.join(folder, ".hookapply", "dev.queue.dead.jsonl")
        for _ in range(100):
            if os.path.exists(dead) and os.path.getsize(dead) > 0:
                break
            time.sleep(0.1)
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=20)


def main():
    binary = os.path.abspath(sys.argv[1])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    failures = []
    checked = set()
    with tempfile.TemporaryDirectory() as folder:
        spec = {"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [
            {"name": "goodhook", "serviceUri": url + "/ok?code=${env:CODE:-c0de}",
             "customHeaders": {"Authorization": "Bearer ${env:TOKEN:-t0ken}"}, "actions": ["push"], "scope": "web:*"},
            {"name": "failhook", "serviceUri": url + "/fail", "actions": ["push"]},
            {"name": "signedhook", "serviceUri": url + "/ok", "actions": ["delete"], "payloadFormat": "cloudevents",
             "signingSecret": "${env:SIGNING_SECRET:-whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}"}]}]}
        with open(os.path.join(folder, "webhooks.json"), "w") as handle:
            json.dump(spec, handle)
        with open(os.path.join(folder, "bad.json"), "w") as handle:
            handle.write('{"version": 1, "registries": [{"name": "Bad Name", "local": {}}]}')
        runs = [
            ("plan", ["plan", "-o", "json"], False),
            ("apply", ["apply", "--auto-approve", "-o", "json"], False),
            ("apply", ["apply", "--auto-approve", "-o", "jsonl"], True),
            ("list", ["list", "-o", "json"], False),
            ("get", ["get", "goodhook", "-o", "json"], False),
            ("ping", ["ping", "goodhook", "-o", "json"], False),
            ("ping", ["ping", "failhook", "-o", "json"], False),
            ("events", ["events", "failhook", "-o", "json"], False),
            ("verify", ["verify", "-o", "json"], False),
            ("apply", ["apply", "--auto-approve", "--verify", "-o", "json"], False),
            ("validate", ["validate", "-o", "json"], False),
            ("validate", ["validate", "-f", "bad.json", "-o", "json"], False),
            ("version", ["version", "-o", "json"], False),
            ("auth", ["auth", "-o", "json"], False),
            ("diagnostics", ["get", "nosuchhook", "-o", "json"], False),
            ("diagnostics", ["plan", "--bogus", "-o", "json"], False),
        ]
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_COLOR": "1", "HOME": folder}
        runs.append(("get", ["get", "signedhook", "-o", "json"], False))
        runs.append(("replay", ["serve", "replay", "--dry-run", "-o", "json"], False))
        for name, arguments, lines in runs:
            if name == "replay":
                make_dead_letter(binary, folder, environment)
            with open(os.path.join(ROOT, "schema", f"hookapply-{name}.schema.json")) as handle:
                validator = jsonschema.Draft202012Validator(json.load(handle))
            result = subprocess.run([binary] + arguments, cwd=folder, env=environment, capture_output=True, text=True, timeout=60)
            documents = result.stdout.splitlines() if lines else [result.stdout]
            for document in documents:
                try:
                    errors = list(validator.iter_errors(json.loads(document)))
                except json.JSONDecodeError as error:
                    errors = [f"not JSON: {error}"]
                for error in errors:
                    failures.append(f"hookapply {' '.join(arguments)}: {getattr(error, 'message', error)}")
            if name == "replay" and not json.loads(result.stdout or "{}").get("replayed"):
                failures.append("serve replay --dry-run listed no dead letter; the entries' schema went unchecked")
            checked.add(name)
            print(f"hookapply {' '.join(arguments)}: exit {result.returncode}, {len(documents)} document(s) checked against hookapply-{name}")
    server.shutdown()
    expected = {os.path.basename(path)[len("hookapply-"):-len(".schema.json")]
                for path in os.listdir(os.path.join(ROOT, "schema")) if path.startswith("hookapply-")}
    # /status is checked by the reconcile tests; every other output schema must have been exercised here.
    missing = sorted(expected - checked - {"status"})
    if missing:
        failures.append(f"no output was checked against: {', '.join(missing)}")
    for failure in failures:
        print("FAIL:", failure, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
