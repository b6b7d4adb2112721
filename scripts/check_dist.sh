#!/usr/bin/env bash
# The package as users install it: build the sdist and, from it, the wheel (python -m build);
# install the wheel into a fresh virtual environment (dependencies from the package index);
# then, outside the checkout, run the installed `flashpro`: --version, `doctor --offline`, an
# LSP initialize/shutdown/exit handshake, and `demo` against the offline model (which reads the
# package data: the sample file, the price table, the tokenizer).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/flashpro-dist.XXXXXX")"
trap 'rm -rf "$work"' EXIT
unset PYTHONPATH VIRTUAL_ENV
for name in $(env | grep -o '^\(DEEPSEEK\|FLASHPRO\)_[A-Z_]*' || true); do unset "$name"; done
start=$SECONDS
step() { printf 'check_dist: [%3ss] %s\n' "$((SECONDS - start))" "$*"; }

quiet() {  # run "$@" with its output kept in a log, shown only when it fails
    "$@" >"$work/step.log" 2>&1 || { cat "$work/step.log"; exit 1; }
}

step "building sdist and wheel"
# One pinned build environment (the backend pyproject.toml asks for), no isolated ones per build.
quiet python3 -m venv "$work/tools"
quiet "$work/tools/bin/pip" install --no-compile build==1.6.1 setuptools==84.2.1 wheel==0.48.0
quiet "$work/tools/bin/python" -m build --no-isolation --outdir "$work/dist" "$root"
wheel="$(ls "$work"/dist/*.whl)"
sdist="$(ls "$work"/dist/*.tar.gz)"
"$work/tools/bin/python" - "$wheel" "$sdist" <<'PY'
import sys, tarfile, zipfile
wheel = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = ["flashpro/py.typed", "flashpro/ledger/prices.json", "flashpro/demo/sample/inventory.py", "flashpro/cli.py"]
missing = [name for name in need if name not in wheel]
sdist = tarfile.open(sys.argv[2]).getnames()
missing += [name for name in ("pyproject.toml", "README.md") if not any(n.endswith("/" + name) for n in sdist)]
if missing:
    sys.exit(f"check_dist: missing from the distributions: {missing}")
PY

step "installing $(basename "$wheel") into a fresh venv"
quiet python3 -m venv "$work/venv"
quiet "$work/venv/bin/pip" install --no-compile "$wheel"
bin="$work/venv/bin"
cd "$work"  # outside the checkout: nothing may come from the source tree

step "flashpro --version"
version="$("$bin/flashpro" --version)"
expected="flashpro $("$bin/python" -c 'import flashpro; print(flashpro.__version__)')"
[ "$version" = "$expected" ] || { echo "check_dist: got '$version', expected '$expected'"; exit 1; }
"$bin/python" -c 'import flashpro, sys; sys.exit(0 if flashpro.__file__.startswith(sys.argv[1]) else "flashpro imported from " + flashpro.__file__)' "$work/venv"

step "flashpro doctor --offline"
PATH="$bin:$PATH" DEEPSEEK_API_KEY=sk-check FLASHPRO_LEDGER="$work/doctor.sqlite3" quiet "$bin/flashpro" doctor --offline

step "LSP initialize / shutdown / exit"
FLASHPRO_LEDGER="$work/lsp.sqlite3" "$bin/python" - "$bin/flashpro" "$work/lsp.log" <<'PY'
import json, subprocess, sys
log = open(sys.argv[2], "wb")
server = subprocess.Popen([sys.argv[1], "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
def send(message):
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    server.stdin.flush()
def reply(wanted):
    while True:
        length = 0
        while (line := server.stdout.readline().strip()):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        message = json.loads(server.stdout.read(length))
        if message.get("id") == wanted:
            return message
send({"id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}})
info = reply(1)["result"]["serverInfo"]
assert info["name"] == "flashpro", info
send({"method": "initialized", "params": {}})
send({"id": 2, "method": "shutdown"})
assert "error" not in reply(2)
send({"method": "exit"})
server.stdin.close()
code = server.wait(timeout=30)
sys.exit(f"check_dist: the server exited with {code}" if code else 0)
PY

step "flashpro demo --no-live (offline model)"
quiet "$bin/flashpro" demo --no-live --speed 100
grep -q "demo: typed=yes" "$work/step.log" || { cat "$work/step.log"; exit 1; }
step "ok"
