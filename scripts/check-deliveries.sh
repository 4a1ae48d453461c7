#!/usr/bin/env bash
# Signed and CloudEvents deliveries judged by implementations written by someone else: a receiver that
# verifies every request with the Standard Webhooks reference library (PyPI standardwebhooks) and parses
# CloudEvents with the CloudEvents Python SDK (PyPI cloudevents), fed by the real binary's `ping` and
# `serve`. A webhook signed with a key the receiver does not hold must fail there, so the check can fail.
# The libraries go into a throwaway virtualenv: CI tools, never product dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
binary="$PWD/${1:-.build/debug/hookapply}"
[ -x "$binary" ] || { swift build --product hookapply >/dev/null; binary="$PWD/.build/debug/hookapply"; }
venv="${HOOKAPPLY_CI_DELIVERY_VENV:-${TMPDIR:-/tmp}/hookapply-delivery-venv}"
if ! "$venv/bin/python" -c "import standardwebhooks, cloudevents.core, cloudevents.v1.http" 2>/dev/null; then
  python3 -m venv "$venv"
  for attempt in 1 2 3; do
    if "$venv/bin/pip" install --quiet --disable-pip-version-check standardwebhooks cloudevents; then break; fi
    echo "check-deliveries: pip install failed (attempt $attempt)" >&2
    [ "$attempt" = 3 ] && exit 1
    sleep 5
  done
fi
. scripts/smoke-lib.sh
receiver_port=$(free_port)
serve_port=$(free_port)
key() { echo "whsec_$(python3 -c "import base64,os; print(base64.b64encode(os.urandom($1)).decode())")"; }
export OLD_SECRET; OLD_SECRET=$(key 32)
export NEW_SECRET; NEW_SECRET=$(key 24)
export UNKNOWN_SECRET; UNKNOWN_SECRET=$(key 64)

# The receiver knows OLD_SECRET and NEW_SECRET (a rotation) but not UNKNOWN_SECRET.
"$venv/bin/python" - "$receiver_port" "$work/verdicts.jsonl" <<'PY' &
import http.server, json, os, sys
from standardwebhooks import Webhook
from cloudevents.core.bindings.http import from_http_event, HTTPMessage
from cloudevents.v1.http import from_http as from_http_v1
keys = [Webhook(os.environ["OLD_SECRET"]), Webhook(os.environ["NEW_SECRET"])]
out = open(sys.argv[2], "a")
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k: v for k, v in self.headers.items()}
        verdict = {"path": self.path, "verified": False, "signatures": len(headers.get("webhook-signature", "").split())}
        for key in keys:
            try:
                key.verify(body, headers)
                verdict["verified"] = True
            except Exception as error:
                verdict.setdefault("errors", []).append(str(error))
        if headers.get("Content-Type", "").startswith("application/cloudevents+json"):
            try:
                event = from_http_event(HTTPMessage(headers=headers, body=body))
                strict = from_http_v1(headers, body)  # refuses a missing id, source, type or specversion
                verdict["cloudevent"] = {"type": event.get_type(), "source": event.get_source(), "id": event.get_id(),
                                         "subject": event.get_subject(), "time": event.get_time().isoformat(),
                                         "data_id": (event.get_data() or {}).get("id"), "v1_type": strict["type"]}
            except Exception as error:
                verdict["cloudevent_error"] = repr(error)
        else:
            verdict["action"] = json.loads(body).get("action")
        verdict["id"] = headers.get("webhook-id")
        out.write(json.dumps(verdict) + "\n"); out.flush()
        self.send_response(200 if verdict["verified"] else 401); self.end_headers()
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY
pids+=($!)
cat > "$work/webhooks.json" <<JSON
{"version": 1, "registries": [{"name": "selfhosted", "local": {}, "webhooks": [
  {"name": "signedacr", "serviceUri": "http://127.0.0.1:$receiver_port/acr", "actions": ["push", "delete"],
   "signingSecret": ["\${env:NEW_SECRET}", "\${env:OLD_SECRET}"]},
  {"name": "signedevents", "serviceUri": "http://127.0.0.1:$receiver_port/ce", "actions": ["push", "delete"],
   "signingSecret": "\${env:OLD_SECRET}", "payloadFormat": "cloudevents"},
  {"name": "unknownkey", "serviceUri": "http://127.0.0.1:$receiver_port/unknown", "actions": ["push"],
   "signingSecret": "\${env:UNKNOWN_SECRET}", "payloadFormat": "cloudevents"}]}]}
JSON
cd "$work"
for _ in $(seq 1 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $receiver_port))" 2>/dev/null && break; sleep 0.1; done
"$binary" apply --auto-approve >/dev/null
"$binary" ping signedacr >/dev/null
"$binary" ping signedevents >/dev/null
if "$binary" ping unknownkey >/dev/null 2>&1; then echo "check-deliveries: the receiver accepted a key it does not hold" >&2; exit 1; fi
"$binary" serve --listen "127.0.0.1:$serve_port" --max-attempts 1 2>serve.log &
pids+=($!)
serve=$!
for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$serve_port/healthz" >/dev/null && break; sleep 0.1; done
manifest='"mediaType":"application/vnd.oci.image.manifest.v1+json","size":418,"digest":"sha256:aaaa","length":418'
post() { curl -s -o /dev/null -w "%{http_code}" -X POST -H "Content-Type: application/vnd.docker.distribution.events.v1+json" --data "$1" "http://127.0.0.1:$serve_port/events"; }
[ "$(post "{\"events\":[{\"id\":\"image-push\",\"timestamp\":\"2026-11-29T03:55:18.024411146Z\",\"action\":\"push\",\"target\":{$manifest,\"repository\":\"demo/hello\",\"tag\":\"v2\",\"references\":[{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":1,\"digest\":\"sha256:c\"}]},\"request\":{\"id\":\"r1\",\"host\":\"127.0.0.1:5000\",\"method\":\"PUT\",\"useragent\":\"skopeo\"},\"actor\":{},\"source\":{\"addr\":\"vm:5000\",\"instanceID\":\"i\"}}]}")" = 200 ]
[ "$(post "{\"events\":[{\"id\":\"chart-push\",\"timestamp\":\"2026-11-29T03:55:19Z\",\"action\":\"push\",\"target\":{$manifest,\"repository\":\"charts/web\",\"tag\":\"1.2.0\",\"references\":[{\"mediaType\":\"application/vnd.cncf.helm.config.v1+json\",\"size\":1,\"digest\":\"sha256:h\"}]},\"request\":{\"id\":\"r2\",\"host\":\"127.0.0.1:5000\",\"method\":\"PUT\",\"useragent\":\"helm\"}}]}")" = 200 ]
[ "$(post "{\"events\":[{\"id\":\"image-delete\",\"timestamp\":\"2026-11-29T03:55:20Z\",\"action\":\"delete\",\"target\":{\"digest\":\"sha256:aaaa\",\"repository\":\"demo/hello\"},\"request\":{\"id\":\"r3\",\"host\":\"127.0.0.1:5000\",\"method\":\"DELETE\",\"useragent\":\"skopeo\"}}]}")" = 200 ]
for _ in $(seq 1 100); do [ "$(wc -l < verdicts.jsonl)" -ge 11 ] && break; sleep 0.1; done
kill -TERM "$serve"; wait "$serve" 2>/dev/null || true
python3 - verdicts.jsonl <<'PY'
import json, sys
verdicts = [json.loads(line) for line in open(sys.argv[1])]
def at(path): return [v for v in verdicts if v["path"] == path]
acr, events, unknown = at("/acr"), at("/ce"), at("/unknown")
problems = []
# A ping each, then two pushes (an image, a chart) and a delete; the unknown key's webhook takes pushes only.
if (len(acr), len(events), len(unknown)) != (4, 4, 3):
    problems.append(f"expected 4, 4 and 3 deliveries, got {len(acr)}, {len(events)}, {len(unknown)}")
for v in acr + events:
    if not v["verified"]: problems.append(f"{v['path']} {v.get('id')}: not verified by standardwebhooks: {v.get('errors')}")
for v in unknown:
    if v["verified"]: problems.append(f"/unknown {v.get('id')}: verified with a key the receiver does not hold")
if any(v["signatures"] != 2 for v in acr): problems.append("the rotation's deliveries do not carry two signatures")
if sorted(v.get("action") for v in acr) != ["delete", "ping", "push", "push"]: problems.append(f"ACR actions: {[v.get('action') for v in acr]}")
types = {}
for v in events + unknown:
    if "cloudevent_error" in v: problems.append(f"{v['path']}: the CloudEvents SDK refused it: {v['cloudevent_error']}"); continue
    ce = v["cloudevent"]
    if ce["source"] != "/hookapply/registries/selfhosted": problems.append(f"source {ce['source']}")
    if ce["id"] != v["id"] or ce["data_id"] != v["id"]: problems.append(f"ids differ: {ce['id']} {ce['data_id']} {v['id']}")
    if ce["type"] != ce["v1_type"]: problems.append("the two SDK parsers disagree")
    types[v["id"]] = (ce["type"], ce["subject"])
expected = {"image-push": ("Microsoft.ContainerRegistry.ImagePushed", "demo/hello:v2"),
            "chart-push": ("Microsoft.ContainerRegistry.ChartPushed", "charts/web:1.2.0"),
            "image-delete": ("Microsoft.ContainerRegistry.ImageDeleted", "demo/hello@sha256:aaaa")}
for id, want in expected.items():
    if id in types and types[id] != want: problems.append(f"{id}: {types[id]}, expected {want}")
if not any(t == ("io.hookapply.webhook.ping", None) for t in types.values()): problems.append("no ping CloudEvent")
if problems:
    print("check-deliveries: " + "\n  ".join(problems), file=sys.stderr); sys.exit(1)
print(f"check-deliveries: {len(acr) + len(events)} signed deliveries (ping and serve) verified by standardwebhooks, "
      f"{len(events) + len(unknown)} CloudEvents parsed by the CloudEvents SDK, {len(unknown)} with an unknown key refused")
PY
