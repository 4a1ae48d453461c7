/// The Examples section of each command's `--help` (and of the man page): what people type most.
enum CommandExamples {
    static let byCommand: [String: [(command: String, what: String)]] = [
        "validate": [
            ("hookapply validate", "check webhooks.json in this folder"),
            ("hookapply validate -f webhooks.json --format json", "diagnostics as JSON, for CI annotations"),
            ("hookapply validate --resolve", "also require every ${env:...} variable and check the resolved values"),
        ],
        "fmt": [
            ("hookapply fmt", "rewrite webhooks.json in the canonical layout"),
            ("hookapply fmt --check", "CI: exit 1 and show the lines when it is not formatted"),
        ],
        "plan": [
            ("hookapply plan", "what apply would change"),
            ("hookapply plan --out plan.json --format markdown > plan.md", "a pull-request comment and a plan to apply after review"),
            ("hookapply plan --detailed-exitcode --strict", "drift check: exit 2 on any difference, hand-made webhooks included"),
        ],
        "apply": [
            ("hookapply apply", "plan, show, ask for 'yes', apply"),
            ("hookapply apply plan.json", "apply exactly a reviewed plan (refused if anything changed since)"),
            ("hookapply apply --auto-approve -r dev", "apply one registry without asking (CI)"),
        ],
        "show": [("hookapply show plan.json", "render a saved plan"), ("hookapply show plan.json --format json", "the same as JSON")],
        "list": [("hookapply list", "every live webhook of the spec's registries"), ("hookapply list -r prod --format json", "one registry, as JSON")],
        "get": [("hookapply get deploybot", "one live webhook"), ("hookapply get deploybot -r prod --format json", "as JSON")],
        "ping": [("hookapply ping deploybot", "send a ping and show the request and the answer"),
                 ("hookapply ping deploybot --format json", "the logged delivery as JSON (exit 1 unless 2xx)")],
        "events": [("hookapply events deploybot", "the delivery log, newest first"), ("hookapply events deploybot --limit 5 --format json", "the last five, as JSON")],
        "verify": [
            ("hookapply verify", "ping every enabled webhook and check each receiver takes it"),
            ("hookapply verify -r prod --wait 1m --format json", "one registry, waiting up to a minute for each delivery, as JSON"),
        ],
        "export": [
            ("hookapply export -r prod > prod.json", "a spec for what a registry holds, secrets as ${env:...}"),
        ],
        "serve": [
            ("hookapply serve -r selfhosted --listen 127.0.0.1:5080 --token-env REGISTRY_TOKEN", "receive a Distribution registry's notifications"),
            ("hookapply serve -r selfhosted --log-format json", "JSON log lines, for a log shipper"),
        ],
        "serve replay": [
            ("hookapply serve replay -r selfhosted --dry-run", "the dead letters that would be queued again"),
            ("hookapply serve replay -r selfhosted --webhook deploybot --since 1h --admin-token-env ADMIN_TOKEN", "one webhook's, of the last hour, through the running serve"),
        ],
        "auth": [
            ("hookapply auth", "which credential signs in, and whether it can read each Azure registry of webhooks.json"),
            ("hookapply auth -r prod --format json", "the same for one registry, as JSON"),
        ],
        "reconcile": [
            ("hookapply reconcile --interval 5m --listen 0.0.0.0:9090", "report drift every 5 minutes; metrics on :9090"),
            ("hookapply reconcile --apply --git-pull --notify \"$SLACK_WEBHOOK_URL\"", "pull, correct drift, and tell Slack when something changed"),
            ("kill -HUP $(pidof hookapply)", "start a cycle now"),
        ],
        "schema": [("hookapply schema > hookapply.schema.json", "the JSON Schema of the spec, for editors")],
        "version": [("hookapply version", "the version")],
        "completion": [("hookapply completion bash > /etc/bash_completion.d/hookapply", "install completion for bash")],
        "help": [("hookapply help plan", "the options of one command")],
    ]
}
