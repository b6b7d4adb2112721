"""Opt-in OpenTelemetry export, decoded by a local OTLP/HTTP receiver."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes import FakeDeepSeek
from tests.lsp_session import clean_env, start_session
from tests.otlp_receiver import OtlpReceiver

SECRET_CODE = "def add(a, b):\n    return a + b  # canary-prompt-text\n"


async def test_every_call_is_exported_with_gen_ai_attributes_and_no_prompt_text(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    uri = (tmp_path / "calc.py").as_uri()
    fake_deepseek.script_chat(json.dumps({"findings": []}))
    with OtlpReceiver() as receiver:
        options = {
            "apiKey": "sk-test",
            "baseUrl": fake_deepseek.url,
            "telemetry": {"otlpEndpoint": receiver.url},
        }
        async with start_session("vscode", init_options=options, root_uri=tmp_path.as_uri()) as session:
            session.open(uri, SECRET_CODE)
            assert await session.inline(uri, 2, 0, invoked=True)
            assert (await session.execute("flashpro.review", {"uri": uri}))["status"] == "ok"
        # shutdown flushed the exporters
    by_name = {span["name"]: span for span in receiver.spans}
    fim = by_name["text_completion deepseek-v4-flash"]["attributes"]
    chat = by_name["chat deepseek-v4-pro"]["attributes"]
    assert fim["gen_ai.operation.name"] == "text_completion" and fim["gen_ai.provider.name"] == "deepseek"
    assert fim["gen_ai.usage.input_tokens"] > 0 and fim["gen_ai.usage.output_tokens"] > 0
    assert fim["flashpro.cost_usd"] > 0 and fim["flashpro.role"] == "executor" and fim["flashpro.file"] == "calc.py"
    assert chat["flashpro.role"] == "planner" and chat["gen_ai.response.model"] == "deepseek-v4-pro"
    assert "gen_ai.input.messages" not in fim and "gen_ai.input.messages" not in chat
    assert all(span["kind"] == 3 for span in receiver.spans)  # SPAN_KIND_CLIENT
    assert receiver.resources[0]["service.name"] == "flashpro"
    tokens = receiver.metrics["gen_ai.client.token.usage"]
    assert {p["attributes"]["gen_ai.token.type"] for p in tokens} == {"input", "output"}
    assert receiver.metrics["gen_ai.client.operation.duration"][0]["unit"] == "s"
    assert sum(p["value"] for p in receiver.metrics["flashpro.cost"]) > 0
    assert any(p["attributes"]["flashpro.outcome"] == "shown" for p in receiver.metrics["flashpro.suggestions"])
    assert not any(b"canary-prompt-text" in body for body in receiver.raw)
    assert not any(b"sk-test" in body for body in receiver.raw)


async def test_the_standard_environment_variable_turns_export_on(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    uri = (tmp_path / "calc.py").as_uri()
    with OtlpReceiver() as receiver:
        env = clean_env(
            FLASHPRO_LEDGER=str(tmp_path / "ledger.sqlite3"),
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        )
        options = {"apiKey": "sk-test", "baseUrl": fake_deepseek.url, "logPrompts": True}
        async with start_session("vscode", init_options=options, env=env, root_uri=tmp_path.as_uri()) as session:
            session.open(uri, SECRET_CODE)
            assert await session.inline(uri, 2, 0, invoked=True)
    (span,) = receiver.spans
    assert "canary-prompt-text" in span["attributes"]["gen_ai.input.messages"]  # logPrompts opted in


async def test_a_collector_that_is_down_costs_nothing_but_a_log_line(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    uri = (tmp_path / "calc.py").as_uri()
    options = {"apiKey": "sk-test", "baseUrl": fake_deepseek.url, "telemetry": {"otlpEndpoint": "http://127.0.0.1:9"}}
    async with start_session("vscode", init_options=options, root_uri=tmp_path.as_uri()) as session:
        session.open(uri, SECRET_CODE)
        assert await session.inline(uri, 2, 0, invoked=True)
        assert session.messages() == []  # no popup for the user
