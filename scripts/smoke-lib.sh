# Shared by the smoke scripts (source it): a work folder, the pids of what they start, killed (by pid)
# and the folder removed on exit, and a free loopback port.
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]:-}"; do kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
