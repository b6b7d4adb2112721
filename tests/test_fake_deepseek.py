"""Tests of the fake DeepSeek server (tests/fakes/): the prompt-cache model on its own, and the
HTTP server driven by the real `openai` SDK exactly as the product will drive it."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from flashpro.tokens import encode
from tests.fakes import Answer, FakeDeepSeek, PromptCache, fake_deepseek  # noqa: F401
from tests.fakes.model import EOS, FIM_BEGIN, FIM_END, FIM_HOLE, fim_tokens

FLASH = "deepseek-v4-flash"
PRO = "deepseek-v4-pro"
KEY = "sk-test"
REPO = Path(__file__).resolve().parents[1]


def toks(start: int, n: int) -> list[int]:
    """`n` distinct token ids from `start` (the cache does not care what they mean)."""
    return list(range(start, start + n))


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


# -- the cache model on its own ----------------------------------------------------------------


def test_doc_example_a_b_then_a_c_then_a_d() -> None:
    cache = PromptCache(interval=None)
    a, b, c, d = toks(1000, 100), toks(2000, 30), toks(3000, 30), toks(4000, 30)
    assert cache.on_input(a + b).hit_tokens == 0
    assert cache.on_input(a + c).hit_tokens == 0  # misses, but saves A
    assert cache.on_input(a + d).hit_tokens == len(a)


def test_doc_example_with_default_interval_hits_whole_units_only() -> None:
    cache = PromptCache()  # 128-token interval
    a, b, c, d = toks(1000, 300), toks(2000, 50), toks(3000, 50), toks(4000, 50)
    cache.on_input(a + b)
    assert cache.on_input(a + c).hit_tokens == 256  # interval units of A+B: 128, 256
    assert cache.on_input(a + d).hit_tokens == 300  # A itself was saved by A+C


def test_identical_request_hits_everything() -> None:
    cache = PromptCache()
    seq = toks(1, 200)
    assert cache.on_input(seq).hit_tokens == 0
    assert cache.on_input(seq).hit_tokens == 200


def test_interval_units_along_a_long_input() -> None:
    cache = PromptCache(interval=128)
    x = toks(1, 1000)
    cache.on_input(x)
    for shared, expected in [(127, 0), (128, 128), (200, 128), (640, 640), (999, 896)]:
        probe = x[:shared] + toks(50_000, 10)
        assert cache.lookup(probe).hit_tokens == expected, shared


def test_nothing_under_the_minimum_unit_is_cached() -> None:
    cache = PromptCache(min_unit=64)
    short, exact = toks(1, 63), toks(500, 64)
    cache.on_input(short)
    assert cache.on_input(short).hit_tokens == 0
    cache.on_input(exact)
    assert cache.on_input(exact).hit_tokens == 64


def test_input_plus_output_unit() -> None:
    cache = PromptCache(interval=None)
    prompt, output, follow = toks(1, 80), toks(900, 20), toks(5000, 10)
    cache.on_input(prompt)
    cache.on_output(prompt + output)
    assert cache.lookup(prompt + output + follow).hit_tokens == 100
    assert cache.lookup(prompt + output[:5] + follow).hit_tokens == 80


def test_store_delay_makes_units_usable_later() -> None:
    now = [0.0]
    cache = PromptCache(store_delay_s=5.0, clock=lambda: now[0])
    seq = toks(1, 100)
    cache.on_input(seq)
    assert cache.on_input(seq).hit_tokens == 0
    now[0] = 5.0
    assert cache.on_input(seq).hit_tokens == 100


def test_clear_forgets_everything() -> None:
    cache = PromptCache()
    seq = toks(1, 100)
    cache.on_input(seq)
    cache.clear()
    assert cache.units == 0
    assert cache.on_input(seq).hit_tokens == 0


class NaiveCache:
    """The rules, written the slow obvious way, as a reference for the trie."""

    def __init__(self, min_unit: int, interval: int | None) -> None:
        self.min_unit, self.interval = min_unit, interval
        self.units: set[tuple[int, ...]] = set()
        self.seen: list[list[int]] = []

    def on_input(self, tokens: list[int]) -> int:
        hit = max((len(u) for u in self.units if tuple(tokens[: len(u)]) == u), default=0)
        shared = max((common_prefix(tokens, s) for s in self.seen), default=0)
        marks = {len(tokens), shared}
        if self.interval:
            marks |= set(range(self.interval, len(tokens) + 1, self.interval))
        self.units |= {tuple(tokens[:m]) for m in marks if m >= self.min_unit}
        self.seen.append(tokens)
        return hit

    def on_output(self, tokens: list[int]) -> None:
        if len(tokens) >= self.min_unit:
            self.units.add(tuple(tokens))
        self.seen.append(tokens)


def test_trie_agrees_with_the_naive_rules() -> None:
    rng = random.Random(7)
    heads = [[rng.randrange(4) for _ in range(rng.randrange(20, 300))] for _ in range(4)]
    fast, slow = PromptCache(min_unit=16, interval=32), NaiveCache(min_unit=16, interval=32)
    for _ in range(300):
        head = rng.choice(heads)
        seq = head[: rng.randrange(len(head) + 1)] + [rng.randrange(4) for _ in range(rng.randrange(40))]
        assert fast.on_input(seq).hit_tokens == slow.on_input(seq)
        if rng.random() < 0.3:
            out = seq + [rng.randrange(4) for _ in range(rng.randrange(1, 20))]
            fast.on_output(out)
            slow.on_output(out)


def test_many_long_requests_stay_cheap() -> None:
    """Thousands of ~10k-token requests must not blow up (no O(n^2) per request)."""
    cache = PromptCache()
    head = toks(10_000, 8_000)
    for i in range(300):
        seq = head + toks(100_000 + 3_000 * i, 2_000)
        expected = [0, 8_000 // 128 * 128][i] if i < 2 else 8_000  # 2nd saves the shared head
        assert cache.on_input(seq).hit_tokens == expected


# -- the server through the openai SDK ---------------------------------------------------------


@pytest.fixture
def fim(fake_deepseek: FakeDeepSeek) -> Iterator[OpenAI]:
    with OpenAI(base_url=fake_deepseek.beta_url, api_key=KEY, max_retries=0) as client:
        yield client


@pytest.fixture
def chat(fake_deepseek: FakeDeepSeek) -> Iterator[OpenAI]:
    with OpenAI(base_url=fake_deepseek.url, api_key=KEY, max_retries=0) as client:
        yield client


def usage_is_consistent(usage: object) -> None:
    data = usage.model_dump()  # type: ignore[attr-defined]
    assert data["prompt_cache_hit_tokens"] + data["prompt_cache_miss_tokens"] == data["prompt_tokens"]
    assert data["prompt_tokens_details"]["cached_tokens"] == data["prompt_cache_hit_tokens"]
    assert data["total_tokens"] == data["prompt_tokens"] + data["completion_tokens"]


def test_fim_non_stream(fim: OpenAI, fake_deepseek: FakeDeepSeek) -> None:
    result = fim.completions.create(model=FLASH, prompt="def answer():\n    ", suffix="\n", max_tokens=64)
    assert result.choices[0].text == "return 42\n"
    assert result.choices[0].finish_reason == "stop"
    assert result.usage is not None
    usage_is_consistent(result.usage)
    assert result.usage.prompt_tokens == len(fim_tokens("def answer():\n    ", "\n"))
    assert result.usage.completion_tokens == len(encode("return 42\n"))
    record = fake_deepseek.requests[-1]
    assert (record.path, record.endpoint) == ("/beta/completions", "fim")
    assert (record.status, record.finished, record.disconnected) == (200, True, False)
    assert record.body["suffix"] == "\n"
    assert record.usage == result.usage.model_dump(exclude_none=True)


def test_fim_layout_counts_markers_once() -> None:
    tokens = fim_tokens("a", "b")
    assert tokens == [FIM_BEGIN, *encode("a"), FIM_HOLE, *encode("b"), FIM_END]
    assert fim_tokens("<｜fim▁hole｜>", "")[1:-2] == encode("<｜fim▁hole｜>")


def test_fim_stream_with_usage(fim: OpenAI, fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.script_fim("value = compute(x)\nreturn value\n")
    chunks = list(
        fim.completions.create(
            model=FLASH,
            prompt="def f(x):\n    ",
            suffix="",
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    texts = [c.choices[0].text for c in chunks if c.choices]
    assert len(texts) > 2
    assert "".join(texts) == "value = compute(x)\nreturn value\n"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert all(c.usage is None for c in chunks[:-1])
    usage_is_consistent(last.usage)
    assert last.usage.completion_tokens == len(encode("value = compute(x)\nreturn value\n"))
    assert fake_deepseek.requests[-1].stream and fake_deepseek.requests[-1].finished


def test_fim_stream_without_usage_has_no_usage_chunk(fim: OpenAI) -> None:
    chunks = list(fim.completions.create(model=FLASH, prompt="x = ", suffix="", stream=True))
    assert all(c.choices and c.usage is None for c in chunks)


def test_stop_strings_and_max_tokens(fim: OpenAI, fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.script_fim(["a = 1\nb = 2\nc = 3\n", "one two three four five six seven eight"])
    stopped = fim.completions.create(model=FLASH, prompt="", suffix="", stop=["\nb", "zzz"])
    assert stopped.choices[0].text == "a = 1"
    assert stopped.choices[0].finish_reason == "stop"
    cut = fim.completions.create(model=FLASH, prompt="", suffix="", max_tokens=3)
    assert cut.choices[0].finish_reason == "length"
    assert cut.usage is not None and cut.usage.completion_tokens <= 3
    assert "one two three four five six seven eight".startswith(cut.choices[0].text)


def test_scripted_queue_then_callable_then_default(fim: OpenAI, fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.script_fim(["first", Answer("second", finish_reason="insufficient_system_resource")])
    fake_deepseek.script_fim(lambda body: body["prompt"].upper())

    def ask(prompt: str) -> tuple[str, str]:
        choice = fim.completions.create(model=FLASH, prompt=prompt, suffix="").choices[0]
        return choice.text, choice.finish_reason

    assert ask("p") == ("first", "stop")
    assert ask("p") == ("second", "insufficient_system_resource")
    assert ask("abc") == ("ABC", "stop")
    fake_deepseek.script_fim(None)
    assert ask("abc") == ("return 42\n", "stop")


def test_fim_echo_and_logprobs(fim: OpenAI) -> None:
    result = fim.completions.create(model=FLASH, prompt="x = ", suffix="", echo=True, logprobs=2)
    assert result.choices[0].text == "x = return 42\n"
    assert result.choices[0].logprobs is not None
    assert "".join(result.choices[0].logprobs.tokens or []) == "x = return 42\n"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_tokens": 4097},
        {"stop": [str(i) for i in range(17)]},
        {"logprobs": 21},
        {"temperature": 3.0},
    ],
)
def test_fim_bad_parameters_are_422(fim: OpenAI, kwargs: dict[str, object]) -> None:
    with pytest.raises(openai.UnprocessableEntityError):
        fim.completions.create(model=FLASH, prompt="x", suffix="", **kwargs)  # type: ignore[arg-type]


def test_fim_max_tokens_4096_is_fine(fim: OpenAI) -> None:
    assert fim.completions.create(model=FLASH, prompt="x", suffix="", max_tokens=4096).choices


def test_unknown_model_is_400_with_deepseek_body(fim: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        fim.completions.create(model="deepseek-chat", prompt="x", suffix="")
    assert err.value.body == {
        "message": "Model Not Exist",
        "type": "invalid_request_error",
        "param": "model",
        "code": "invalid_request_error",
    }


def test_fim_needs_the_beta_url(chat: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        chat.completions.create(model=FLASH, prompt="x", suffix="")


def test_models_list(chat: OpenAI, fake_deepseek: FakeDeepSeek) -> None:
    assert [m.id for m in chat.models.list()] == ["deepseek-v4-flash", "deepseek-v4-pro", "deepseek-flash"]
    with OpenAI(base_url=fake_deepseek.url + "/v1", api_key=KEY, max_retries=0) as v1:
        assert len(list(v1.models.list())) == 3


def test_models_are_configurable() -> None:
    with FakeDeepSeek(models=["deepseek-flash"]) as server, OpenAI(
        base_url=server.url, api_key=KEY, max_retries=0
    ) as client:
        assert [m.id for m in client.models.list()] == ["deepseek-flash"]
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model=PRO, messages=[{"role": "user", "content": "hi"}])


def test_bad_key_is_401_and_the_key_is_never_recorded(fake_deepseek: FakeDeepSeek) -> None:
    with OpenAI(base_url=fake_deepseek.url, api_key="sk-wrong", max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError) as err:
            client.models.list()
    assert isinstance(err.value.body, dict) and err.value.body["type"] == "authentication_error"
    with OpenAI(base_url=fake_deepseek.url, api_key=KEY, max_retries=0) as client:
        client.models.list()
    bad, good = fake_deepseek.requests
    assert (bad.status, bad.auth_present, bad.auth_valid, bad.account) == (401, True, False, None)
    assert (good.status, good.auth_valid) == (200, True)
    assert "authorization" not in good.headers
    dump = repr(fake_deepseek.requests)
    assert "sk-wrong" not in dump and KEY not in dump


def test_missing_key_is_401(fake_deepseek: FakeDeepSeek) -> None:
    request = urllib.request.Request(fake_deepseek.url + "/models")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=5)
    assert err.value.code == 401
    assert json.loads(err.value.read())["error"]["type"] == "authentication_error"
    assert fake_deepseek.requests[-1].auth_present is False


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (402, openai.APIStatusError),
        (422, openai.UnprocessableEntityError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
def test_injected_failures_map_to_sdk_errors(
    fim: OpenAI, fake_deepseek: FakeDeepSeek, status: int, error: type[openai.APIStatusError]
) -> None:
    fake_deepseek.fail_next(status)
    with pytest.raises(error) as err:
        fim.completions.create(model=FLASH, prompt="x", suffix="")
    assert err.value.status_code == status
    assert isinstance(err.value.body, dict) and err.value.body["message"]
    assert fim.completions.create(model=FLASH, prompt="x", suffix="").choices  # only the next one
    assert [r.injected for r in fake_deepseek.requests] == [True, False]


def test_fail_next_n_body_and_path_filter(fim: OpenAI, chat: OpenAI, fake_deepseek: FakeDeepSeek) -> None:
    body = {"error": {"message": "slow down", "type": "rate_limit_error"}}
    fake_deepseek.fail_next(429, n=2, body=body, path="/completions")
    chat.models.list()  # not matched by the path filter
    for _ in range(2):
        with pytest.raises(openai.RateLimitError, match="slow down"):
            fim.completions.create(model=FLASH, prompt="x", suffix="")
    fim.completions.create(model=FLASH, prompt="x", suffix="")


def test_sdk_retries_are_visible_in_the_records(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.fail_next(503, headers={"retry-after-ms": "1"})
    with OpenAI(base_url=fake_deepseek.beta_url, api_key=KEY, max_retries=1) as client:
        assert client.completions.create(model=FLASH, prompt="x", suffix="").choices
    assert [r.status for r in fake_deepseek.requests] == [503, 200]


def test_chat_json_object(chat: OpenAI, fake_deepseek: FakeDeepSeek) -> None:
    result = chat.chat.completions.create(
        model=PRO,
        messages=[{"role": "user", "content": 'Reply in json like {"answer": "..."}'}],
        response_format={"type": "json_object"},
        extra_body={"thinking": {"type": "disabled"}},
    )
    message = result.choices[0].message
    assert json.loads(message.content or "") == {"answer": "ok"}
    assert getattr(message, "reasoning_content", None) is None
    assert result.usage is not None
    usage_is_consistent(result.usage)
    assert result.usage.completion_tokens_details is None


def test_chat_json_object_needs_the_word_json(chat: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="json"):
        chat.chat.completions.create(
            model=PRO, messages=[{"role": "user", "content": "hi"}], response_format={"type": "json_object"}
        )


def test_chat_thinking_reports_reasoning(chat: OpenAI, fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.script_chat(Answer("Use a dict.", reasoning="Lookups are O(1) in a dict."))
    result = chat.chat.completions.create(
        model=PRO,
        messages=[{"role": "user", "content": "list or dict?"}],
        reasoning_effort="high",
        extra_body={"thinking": {"type": "enabled"}},
    )
    message = result.choices[0].message
    assert message.content == "Use a dict."
    assert getattr(message, "reasoning_content", None) == "Lookups are O(1) in a dict."
    assert result.usage is not None and result.usage.completion_tokens_details is not None
    reasoning = len(encode("Lookups are O(1) in a dict."))
    assert result.usage.completion_tokens_details.reasoning_tokens == reasoning
    assert result.usage.completion_tokens == reasoning + len(encode("Use a dict."))
    assert fake_deepseek.requests[-1].body["reasoning_effort"] == "high"


def test_chat_thinks_by_default(chat: OpenAI) -> None:
    result = chat.chat.completions.create(model=FLASH, messages=[{"role": "user", "content": "hi"}])
    assert getattr(result.choices[0].message, "reasoning_content", None)


def test_chat_stream_with_reasoning_and_usage(chat: OpenAI, fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.script_chat(Answer("All good here.", reasoning="Check it twice."))
    chunks = list(
        chat.chat.completions.create(
            model=FLASH,
            messages=[{"role": "user", "content": "status?"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join(d.content or "" for d in deltas) == "All good here."
    assert "".join(getattr(d, "reasoning_content", None) or "" for d in deltas) == "Check it twice."
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    usage_is_consistent(chunks[-1].usage)


def test_chat_v1_prefix_and_prefix_completion_on_beta(fake_deepseek: FakeDeepSeek) -> None:
    messages = [
        {"role": "user", "content": "write it"},
        {"role": "assistant", "content": "```py\n", "prefix": True},
    ]
    with OpenAI(base_url=fake_deepseek.url + "/v1", api_key=KEY, max_retries=0) as v1:
        assert v1.chat.completions.create(model=FLASH, messages=[{"role": "user", "content": "hi"}]).choices
        with pytest.raises(openai.BadRequestError):
            v1.chat.completions.create(model=FLASH, messages=messages)  # type: ignore[arg-type]
    with OpenAI(base_url=fake_deepseek.beta_url, api_key=KEY, max_retries=0) as beta:
        assert beta.chat.completions.create(model=FLASH, messages=messages).choices  # type: ignore[arg-type]


# -- the prompt cache through the SDK ----------------------------------------------------------

HEAD = "".join(f"def helper_{i}(value):\n    return value * {i}\n\n" for i in range(12))


def fim_usage(client: OpenAI, prompt: str) -> dict[str, int]:
    result = client.completions.create(model=FLASH, prompt=prompt, suffix="")
    assert result.usage is not None
    usage_is_consistent(result.usage)
    return result.usage.model_dump()


def test_second_identical_request_hits(fim: OpenAI) -> None:
    first = fim_usage(fim, HEAD)
    second = fim_usage(fim, HEAD)
    assert first["prompt_cache_hit_tokens"] == 0
    assert second["prompt_cache_hit_tokens"] == second["prompt_tokens"]
    assert second["prompt_cache_miss_tokens"] == 0


def test_doc_example_over_http() -> None:
    a_b, a_c, a_d = HEAD + "alpha = 1\n", HEAD + "beta = 2\n", HEAD + "gamma = 3\n"
    saved = common_prefix(fim_tokens(a_b, ""), fim_tokens(a_c, ""))
    assert saved >= 64 and common_prefix(fim_tokens(a_c, ""), fim_tokens(a_d, "")) >= saved
    with FakeDeepSeek(cache_interval=None) as server, OpenAI(
        base_url=server.beta_url, api_key=KEY, max_retries=0
    ) as client:
        assert fim_usage(client, a_b)["prompt_cache_hit_tokens"] == 0
        assert fim_usage(client, a_c)["prompt_cache_hit_tokens"] == 0
        assert fim_usage(client, a_d)["prompt_cache_hit_tokens"] == saved


def test_interval_units_over_http(fim: OpenAI) -> None:
    long_head = HEAD * 3
    first, second = long_head + "alpha = 1\n", long_head + "beta = 2\n"
    shared = common_prefix(fim_tokens(first, ""), fim_tokens(second, ""))
    assert shared >= 128
    fim_usage(fim, first)
    assert fim_usage(fim, second)["prompt_cache_hit_tokens"] == shared // 128 * 128


def test_cache_is_per_account_and_can_be_disabled_or_cleared() -> None:
    with FakeDeepSeek(api_keys=["sk-a", "sk-b"]) as server:
        a = OpenAI(base_url=server.beta_url, api_key="sk-a", max_retries=0)
        b = OpenAI(base_url=server.beta_url, api_key="sk-b", max_retries=0)
        fim_usage(a, HEAD)
        assert fim_usage(b, HEAD)["prompt_cache_hit_tokens"] == 0
        assert fim_usage(a, HEAD)["prompt_cache_hit_tokens"] > 0
        server.clear_cache()
        assert fim_usage(a, HEAD)["prompt_cache_hit_tokens"] == 0
        server.cache_enabled = False
        assert fim_usage(a, HEAD)["prompt_cache_hit_tokens"] == 0
        assert server.cache_for("sk-a").lookup(fim_tokens(HEAD, "")).hit_tokens > 0


def test_chat_turn_two_hits_turn_one_input_plus_output(chat: OpenAI) -> None:
    history = [{"role": "system", "content": HEAD}, {"role": "user", "content": "What does helper_3 do?"}]
    off = {"thinking": {"type": "disabled"}}
    first = chat.chat.completions.create(
        model=FLASH, messages=history, extra_body=off  # type: ignore[arg-type]
    )
    answer = first.choices[0].message.content
    history += [{"role": "assistant", "content": answer}, {"role": "user", "content": "And helper_4?"}]
    second = chat.chat.completions.create(
        model=FLASH, messages=history, extra_body=off  # type: ignore[arg-type]
    )
    assert first.usage is not None and second.usage is not None
    expected = first.usage.prompt_tokens + first.usage.completion_tokens + len([EOS])
    assert second.usage.prompt_cache_hit_tokens == expected  # type: ignore[attr-defined]


# -- latency, keep-alives, hangs and disconnects -----------------------------------------------


async def test_cancelled_client_is_recorded_as_disconnected(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.latency_s = 2.0
    client = AsyncOpenAI(base_url=fake_deepseek.beta_url, api_key=KEY, max_retries=0)
    task = asyncio.create_task(client.completions.create(model=FLASH, prompt="x", suffix=""))
    arrived = await fake_deepseek.wait_for_request_async()
    assert not arrived.done
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    record = await fake_deepseek.wait_for_disconnect_async(timeout=5)
    assert record is arrived
    assert record.disconnected and not record.finished and record.status is None
    await client.close()


async def test_stream_closed_midway_is_recorded_as_disconnected(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.chunk_delay_s = 0.5
    fake_deepseek.script_fim("a b c d e f g h i j")
    client = AsyncOpenAI(base_url=fake_deepseek.beta_url, api_key=KEY, max_retries=0)
    stream = await client.completions.create(model=FLASH, prompt="x", suffix="", stream=True)
    async for chunk in stream:
        assert chunk.choices[0].text == "a"
        break
    await stream.close()
    record = await fake_deepseek.wait_for_disconnect_async(timeout=5)
    assert record.stream and record.status == 200 and not record.finished
    assert 1 <= record.chunks_sent < 10
    await client.close()


async def test_hang_until_client_timeout(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.hang = True
    client = AsyncOpenAI(base_url=fake_deepseek.beta_url, api_key=KEY, max_retries=0, timeout=0.3)
    with pytest.raises(openai.APITimeoutError):
        await client.completions.create(model=FLASH, prompt="x", suffix="")
    record = await fake_deepseek.wait_for_disconnect_async(timeout=5)
    assert record.disconnected and not record.finished
    await client.close()


async def test_hang_after_chunks(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.hang_after_chunks = 1
    client = AsyncOpenAI(base_url=fake_deepseek.beta_url, api_key=KEY, max_retries=0, timeout=0.3)
    stream = await client.completions.create(model=FLASH, prompt="x", suffix="", stream=True)
    texts = []
    with pytest.raises(openai.APITimeoutError):
        async for chunk in stream:
            texts.append(chunk.choices[0].text)
    assert texts == ["return"]
    assert (await fake_deepseek.wait_for_disconnect_async(timeout=5)).chunks_sent == 1
    await client.close()


def test_latency_grows_with_miss_tokens_not_hits(fim: OpenAI, fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.latency_s = 0.01
    fake_deepseek.latency_per_miss_token_s = 0.0005
    fake_deepseek.keepalive_interval_s = 0.02  # non-stream: blank lines before the JSON
    first = fim_usage(fim, HEAD)
    second = fim_usage(fim, HEAD)
    assert first["prompt_cache_miss_tokens"] > 0 and second["prompt_cache_miss_tokens"] == 0
    slow, fast = fake_deepseek.requests
    assert slow.delay_s == pytest.approx(0.01 + 0.0005 * first["prompt_cache_miss_tokens"])
    assert fast.delay_s == pytest.approx(0.01)


def test_stream_keepalive_comments_are_ignored_by_the_sdk(fim: OpenAI, fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.latency_s = 0.1
    fake_deepseek.keepalive_interval_s = 0.02
    chunks = list(fim.completions.create(model=FLASH, prompt="x", suffix="", stream=True))
    assert "".join(c.choices[0].text for c in chunks) == "return 42\n"


def test_wait_helpers_time_out(fake_deepseek: FakeDeepSeek) -> None:
    with pytest.raises(TimeoutError):
        fake_deepseek.wait_for_request(timeout=0.05)
    with pytest.raises(TimeoutError):
        fake_deepseek.wait_until(lambda: False, timeout=0.05)


def test_wait_for_requests_and_requests_to(fim: OpenAI, chat: OpenAI, fake_deepseek: FakeDeepSeek) -> None:
    fim.completions.create(model=FLASH, prompt="x", suffix="")
    chat.models.list()
    assert [r.endpoint for r in fake_deepseek.wait_for_requests(2, timeout=1)] == ["fim", "models"]
    assert len(fake_deepseek.requests_to("fim")) == 1
    fake_deepseek.reset()
    assert fake_deepseek.requests == []


def test_stop_ends_a_hanging_request() -> None:
    server = FakeDeepSeek().start()
    server.hang = True
    request = urllib.request.Request(
        server.beta_url + "/completions",
        data=json.dumps({"model": FLASH, "prompt": "x"}).encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    errors: list[BaseException] = []

    def call() -> None:
        try:
            urllib.request.urlopen(request, timeout=10)
        except Exception as exc:  # noqa: BLE001 - any failure is the point
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    server.wait_for_request()
    server.stop()
    thread.join(timeout=5)
    assert not thread.is_alive() and errors
    assert server.requests[0].done and not server.requests[0].finished


def test_command_line_serves_until_interrupted() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.deepseek", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        request = urllib.request.Request(url + "/models", headers={"Authorization": f"Bearer {KEY}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.loads(response.read())["data"][0]["id"] == FLASH
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None and "Warning" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
