#!/usr/bin/env bash
# serve's durability through the real binary: events accepted while the receiver is down, serve killed
# with SIGKILL, then the receiver and serve started again: every event must arrive (at least once).
set -euo pipefail
cd "$(dirname "$0")/.."
binary="$PWD/.build/debug/hookapply"
[ -x "$binary" ] || swift build --product hookapply >/dev/null
. scripts/smoke-lib.sh
receiver_port=$(free_port)
serve_port=$(free_port)
cat > "$work/webhooks.json" <<JSON
{"version": 1, "registries": [{"name": "selfhosted", "local": {}, "webhooks": [
  {"name": "deploybot", "serviceUri": "http://127.0.0.1:$receiver_port/hook", "actions": ["push"]}]}]}
JSON
cd "$work"
"$binary" apply --auto-approve >/dev/null
REG_TOKEN=t "$binary" serve --listen "127.0.0.1:$serve_port" --token-env REG_TOKEN --max-attempts 100 2>serve1.log &
pids+=($!)
serve=$!
for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$serve_port/healthz" >/dev/null && break; sleep 0.1; done
for i in $(seq 1 20); do
  body="{\"events\":[{\"id\":\"event-$i\",\"timestamp\":\"2026-11-29T00:00:00Z\",\"action\":\"push\",\"target\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":1,\"digest\":\"sha256:$i\",\"length\":1,\"repository\":\"demo/hello\",\"tag\":\"v$i\"},\"request\":{\"id\":\"r\",\"host\":\"h\",\"method\":\"PUT\",\"useragent\":\"u\"}}]}"
  code=$(curl -s -o /dev/null -w "%{http_code}" -X POST -H "Authorization: Bearer t" -H "Content-Type: application/json" --data "$body" "http://127.0.0.1:$serve_port/events")
  [ "$code" = 200 ] || { echo "restart smoke: event $i was answered $code" >&2; exit 1; }
done
sleep 0.5
kill -9 "$serve"   # deliveries are pending: the receiver is not up yet
wait "$serve" 2>/dev/null || true
python3 - "$receiver_port" "$work/received.txt" <<'PY' &
import http.server, sys, json
out = open(sys.argv[2], "a")
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        out.write(json.loads(body)["id"] + "\n"); out.flush()
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
pids+=($!)
REG_TOKEN=t "$binary" serve --listen "127.0.0.1:$serve_port" --token-env REG_TOKEN 2>serve2.log &
pids+=($!)
serve2=$!
for _ in $(seq 1 100); do
  [ -f received.txt ] && [ "$(sort -u received.txt | wc -l)" -ge 20 ] && break
  sleep 0.1
done
kill -TERM "$serve2"; wait "$serve2" 2>/dev/null || true
delivered=$(sort -u received.txt 2>/dev/null | wc -l)
if [ "$delivered" -ne 20 ]; then
  echo "restart smoke: only $delivered of 20 events arrived after the restart" >&2
  cat serve2.log >&2
  exit 1
fi
echo "restart smoke: 20 events accepted, serve killed with SIGKILL, all 20 delivered after the restart ($(wc -l < received.txt) deliveries)"
