#!/usr/bin/env bash
# End-to-end test of the extension in real VS Code: code-server 4.139.1 (VS Code 1.139.1) driven
# in Debian's headless Chromium by puppeteer-core, against a scripted fake DeepSeek API
# (fake_deepseek.py). By default the extension gets its server as a user's would: `flashpro` is
# not on PATH and `flashpro.server.command` is unset, so on first start it builds its private
# environment from the wheel bundled in the .vsix (Python from PATH, dependencies from PyPI).
#
#   clients/vscode/e2e/run.sh            # from anywhere; needs the repo's .venv (README install)
#
# Environment: E2E_CACHE (default e2e/.cache: Node 24, code-server, puppeteer-core; reused),
# E2E_OUT (default e2e/out: screenshots, result.json, logs), E2E_HEADFUL=1 (watch it),
# E2E_SERVER=venv (skip the bootstrap: flashpro.server.command points at the repo's .venv).
# Exit status 0 when every step passed. Prints one line per step and a timing summary.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
EXT="$(dirname "$HERE")"
ROOT="$(cd "$EXT/../.." && pwd)"
CACHE="${E2E_CACHE:-$HERE/.cache}"
OUT="${E2E_OUT:-$HERE/out}"
VENV="$ROOT/.venv"
SERVER="${E2E_SERVER:-bundled}"
API_KEY="sk-test"  # a key the fake accepts; typed into "flashpro: Set DeepSeek API Key"
START=$EPOCHREALTIME
since() { awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN { printf "%.1f", b - a }'; }
stamp() { printf '[e2e %6ss] %s\n' "$(since "$START")" "$*"; }

[ -x "$VENV/bin/flashpro" ] || { echo "no $VENV/bin/flashpro: install the project first (see README)" >&2; exit 2; }
rm -rf "$OUT" && mkdir -p "$OUT"
RUN="$(mktemp -d /tmp/flashpro-e2e.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ ! -d "$OUT/code-server-logs" ] && [ -d "$RUN/user-data/logs" ]; then cp -r "$RUN/user-data/logs" "$OUT/code-server-logs" 2>/dev/null || true; fi
  rm -rf "$RUN"
}
trap cleanup EXIT

if [ "$SERVER" = bundled ]; then
  # The machine state the bootstrap must work from: no flashpro on PATH (only the fake API and
  # the checks below use the repository's venv, by its full path).
  CLEAN=""
  IFS=: read -ra DIRS <<<"$PATH"
  for dir in "${DIRS[@]}"; do
    if [ -x "$dir/flashpro" ]; then stamp "leaving $dir out of PATH (it holds a flashpro)"; else CLEAN="${CLEAN:+$CLEAN:}$dir"; fi
  done
  export PATH="$CLEAN"
  if command -v flashpro >/dev/null 2>&1; then echo "flashpro is still on PATH: $(command -v flashpro)" >&2; exit 2; fi
  stamp "server: the extension's own (bundled wheel, private environment); flashpro is not on PATH"
else
  stamp "server: $VENV/bin/flashpro (E2E_SERVER=$SERVER)"
fi

stamp "setup (cache: $CACHE)"
"$HERE/setup.sh" "$CACHE"
export PATH="$CACHE/node24/bin:$PATH"
SETUP_DONE=$EPOCHREALTIME

stamp "packaging the extension"
(
  cd "$EXT"
  [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
  FLASHPRO_PYTHON="$VENV/bin/python" npm run --silent package >"$OUT/package.log" 2>&1 || { cat "$OUT/package.log" >&2; exit 1; }
)
VSIX="$EXT/dist/flashpro.vsix"
stamp "$(grep -o 'bundled flashpro_lsp.*' "$OUT/package.log"); .vsix $(du -k "$VSIX" | cut -f1) KB"

stamp "starting the fake DeepSeek API"
"$VENV/bin/python" "$HERE/fake_deepseek.py" --records "$OUT/fake-requests.json" >"$RUN/fake.url" 2>"$OUT/fake.log" &
PIDS+=($!)
# Two lines: the API's base URL, then the URL of its control server (the drive asks it for the
# requests seen so far).
for _ in $(seq 100); do [ "$(cat "$RUN/fake.url" 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.1; done
FAKE_URL="$(sed -n 1p "$RUN/fake.url")"; FAKE_CONTROL="$(sed -n 2p "$RUN/fake.url")"
[ -n "$FAKE_CONTROL" ] || { echo "the fake DeepSeek API did not start" >&2; cat "$OUT/fake.log" >&2; exit 1; }

# A fresh workspace, user data and extensions dir; settings that point flashpro at the fake.
WS="$RUN/workspace"; USER_DATA="$RUN/user-data"; EXTENSIONS="$RUN/extensions"
mkdir -p "$WS" "$USER_DATA/User" "$EXTENSIONS" "$RUN/xdg"
cp -r "$HERE/workspace/." "$WS/"
"$VENV/bin/python" - "$USER_DATA/User" "$FAKE_URL" "$VENV/bin/flashpro" "$OUT/ledger.sqlite3" "$SERVER" <<'PY'
import json, sys
from pathlib import Path
user, url, flashpro, ledger, server = sys.argv[1:]
settings = {
    "flashpro.baseUrl": url,
    **({"flashpro.server.command": [flashpro, "lsp"]} if server == "venv" else {}),
    "flashpro.ledgerPath": ledger,
    "flashpro.trace.server": "verbose",
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.welcomePage.walkthroughs.openOnInstall": False,
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "chat.disableAIFeatures": True,
    "editor.inlineSuggest.enabled": True,
    "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
    "editor.suggestOnTriggerCharacters": False,
    "editor.autoClosingBrackets": "never",
    "editor.autoClosingQuotes": "never",
    "editor.formatOnType": False,
    "editor.lightbulb.enabled": "off",
    "files.autoSave": "off",
}
keys = [
    ("ctrl+alt+shift+f1", "editor.action.inlineSuggest.trigger"),
    ("ctrl+alt+shift+f2", "editor.action.inlineSuggest.commit"),
    ("ctrl+alt+shift+f3", "flashpro.setApiKey"),
    ("ctrl+alt+shift+f4", "editor.action.sourceAction"),
    ("ctrl+alt+shift+f5", "workbench.actions.view.problems"),
    ("ctrl+alt+shift+f7", "editor.action.refactor"),
    ("ctrl+alt+shift+f8", "workbench.action.openSettingsJson"),
    ("ctrl+alt+shift+f9", "flashpro.clearReviews"),
    ("ctrl+alt+shift+f10", "flashpro.reviewFile"),
    ("ctrl+alt+shift+f11", "flashpro.designSelection"),
    ("ctrl+alt+shift+f12", "flashpro.toggleAutomatic"),
    ("ctrl+alt+shift+k", "notifications.showList"),
    ("ctrl+alt+shift+j", "notifications.hideList"),
    ("ctrl+alt+shift+s", "workbench.action.files.saveAll"),
]
Path(user, "settings.json").write_text(json.dumps(settings, indent=2))
Path(user, "keybindings.json").write_text(json.dumps([{"key": k, "command": c} for k, c in keys], indent=2))
PY

CODE_SERVER="$CACHE/code-server/node_modules/.bin/code-server"
export XDG_CONFIG_HOME="$RUN/xdg" XDG_DATA_HOME="$RUN/xdg"
unset DEEPSEEK_API_KEY DEEPSEEK_BASE_URL FLASHPRO_LEDGER  # the key must come from the secret store
stamp "installing the .vsix into code-server"
"$CODE_SERVER" --user-data-dir "$USER_DATA" --extensions-dir "$EXTENSIONS" --install-extension "$VSIX" >"$OUT/install.log" 2>&1 \
  || { cat "$OUT/install.log" >&2; exit 1; }

PORT="$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
stamp "starting code-server on 127.0.0.1:$PORT"
"$CODE_SERVER" --bind-addr "127.0.0.1:$PORT" --auth none --disable-workspace-trust --disable-telemetry \
  --disable-update-check ${E2E_LOG_LEVEL:+--log "$E2E_LOG_LEVEL"} --user-data-dir "$USER_DATA" --extensions-dir "$EXTENSIONS" "$WS" >"$OUT/code-server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

stamp "driving VS Code in Chromium"
DRIVE_START=$EPOCHREALTIME
status=0
E2E_URL="http://127.0.0.1:$PORT/?folder=$WS" E2E_WORKSPACE="$WS" E2E_OUT="$OUT" E2E_RUN="$RUN" E2E_API_KEY="$API_KEY" \
  E2E_USER_SETTINGS="$USER_DATA/User/settings.json" E2E_FAKE_CONTROL="$FAKE_CONTROL" E2E_SERVER="$SERVER" \
  NODE_PATH="$CACHE/driver/node_modules" node "$HERE/drive.cjs" || status=$?

DRIVE_END=$EPOCHREALTIME
# Stop code-server and the fake (which then writes its request summary), keep the logs.
for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
PIDS=()
cp -r "$USER_DATA/logs" "$OUT/code-server-logs" 2>/dev/null || true

stamp "checking the ledger, the fake's requests and the logs"
"$VENV/bin/python" - "$OUT" "$API_KEY" "$USER_DATA/User/globalStorage/flashpro.flashpro" "$SERVER" <<'PY' || status=1
import json, sqlite3, subprocess, sys
from pathlib import Path
out, key, storage, server = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4]
result_path = out / "result.json"
result = json.loads(result_path.read_text()) if result_path.exists() else {}
problems = []
rows = sqlite3.connect(out / "ledger.sqlite3").execute("SELECT kind, outcome FROM calls").fetchall() \
    if (out / "ledger.sqlite3").exists() else []
accepted = sum(1 for _, outcome in rows if outcome == "accepted")
result["ledger"] = {"calls": len(rows), "accepted": accepted}
if not accepted:
    problems.append("the ledger has no accepted completion: flashpro.accept did not reach the server")
# The task the drive ran ("Implement this"): applied from the Refactor Preview, every call counted.
db = sqlite3.connect(out / "ledger.sqlite3") if (out / "ledger.sqlite3").exists() else None
tasks = db.execute("SELECT id, status, applied, nodes_total, nodes_passed FROM tasks").fetchall() if db else []
task_calls = db.execute("SELECT role, node_id FROM calls WHERE task_id IS NOT NULL ORDER BY id").fetchall() if db else []
result["ledger"]["tasks"] = [dict(zip(("id", "status", "applied", "nodes_total", "nodes_passed"), row)) for row in tasks]
result["ledger"]["task_calls"] = [list(row) for row in task_calls]
if [row[1:] for row in tasks] != [("applied", 1, 2, 2)]:
    problems.append(f"expected one task row, applied with 2/2 nodes; the ledger has {tasks}")
elif sorted(node or "-" for _, node in task_calls) != ["-", "-", "n1", "n2"]:
    problems.append(f"expected the task's plan, n1, n2 and acceptance calls in the ledger; it has {task_calls}")
requests = json.loads((out / "fake-requests.json").read_text())["requests"] if (out / "fake-requests.json").exists() else []
fim_ok = [r for r in requests if r["endpoint"] == "fim" and r["auth_valid"]]
result["fake"] = {"requests": len(requests), "fim_with_valid_key": len(fim_ok)}
if not fim_ok:
    problems.append("no FIM request reached the fake with the key from the secret store")
leaks = [str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.suffix in {".log", ".txt", ".json"}
         and key in p.read_text(errors="replace")]
result["keyInLogs"] = leaks
if leaks:
    problems.append(f"the API key appears in {leaks}")
if server == "bundled":
    # The private environment: built once from the bundled wheel, then reused by every start.
    record_file = storage / "server" / "environment.json"
    record = json.loads(record_file.read_text()) if record_file.exists() else {}
    python = storage / "server" / record.get("dir", "?") / "bin" / "python"
    found = subprocess.run([str(python), "-c", "import flashpro; print(flashpro.__file__)"], capture_output=True, text=True) \
        if python.exists() else None
    logs = "\n".join(p.read_text(errors="replace") for p in (out / "code-server-logs").rglob("*.log"))
    starts = logs.count(f"starting the language server: {python} -m flashpro lsp")
    builds = logs.count("[setup] creating ")
    result["environment"] = {"record": record, "starts": starts, "builds": builds,
                             "flashpro": found.stdout.strip() if found and found.returncode == 0 else None}
    if not record.get("wheel", "").startswith("flashpro_lsp-"):
        problems.append(f"no environment record of the bundled wheel in {record_file}")
    elif not (found and found.returncode == 0 and str(storage) in found.stdout):
        problems.append(f"flashpro is not installed in the private environment {python}")
    if builds != 1 or starts < 2:
        problems.append(f"expected one environment build and at least two starts from it, saw {builds} and {starts}")
result["checks"] = problems or "ok"
result_path.write_text(json.dumps(result, indent=2))
print(f"ledger: {len(rows)} calls, {accepted} accepted, tasks {[row[1:] for row in tasks]}; fake: {len(fim_ok)} FIM calls with the key; key in logs: {leaks or 'nowhere'}")
if "environment" in result:
    env = result["environment"]
    print(f"private environment: {env['record'].get('dir')} ({env['record'].get('wheel')}, Python {env['record'].get('pythonVersion')}); built {env['builds']}x, server started from it {env['starts']}x")
for problem in problems:
    print(f"FAIL {problem}")
sys.exit(1 if problems else 0)
PY
END=$EPOCHREALTIME
echo "e2e timings: setup $(since "$START" "$SETUP_DONE")s, drive $(since "$DRIVE_START" "$DRIVE_END")s, total $(since "$START" "$END")s"
[ $status -eq 0 ] && echo "e2e: passed" || echo "e2e: FAILED (see $OUT)"
exit $status
