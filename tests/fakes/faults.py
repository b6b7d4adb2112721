"""Fault injection of the fake DeepSeek server: the ways a completion's response goes wrong.

Owns what the server's fault knobs do to a response (see `FakeDeepSeek`): which stream events
are sent (`edit_events`: a malformed event in place of one, the usage chunk or `data: [DONE]`
left out, the stream ended early) and how the bytes go out (`trickle`: one byte at a time;
`Exchange.reset`: a TCP reset). Each fault sets `RequestRecord.fault` to one of `FAULTS`.
Status failures (`fail_next`), latency, hangs and keep-alives stay in `server`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tests.fakes import wire
from tests.fakes.transport import Exchange

__all__ = ["FAULTS", "MALFORMED_EVENT", "EventsPlan", "edit_events", "is_usage_event", "trickle"]

MALFORMED_EVENT = b'data: {"choi\n\n'
"""A stream event cut off inside its JSON (what a broken proxy or a server bug sends)."""

FAULTS = ("end_early", "garbage", "malformed", "no_done", "no_usage", "reset", "trickle")


@dataclass(frozen=True, slots=True)
class EventsPlan:
    """The events to send and the name of the fault that changed them (None: untouched)."""

    events: list[bytes]
    fault: str | None


def is_usage_event(event: bytes) -> bool:
    """Whether an SSE event is the usage-only chunk (`choices: []`, `usage: {...}`)."""
    if not event.startswith(b"data: {"):
        return False
    chunk = json.loads(event[len(b"data: ") :])
    return bool(chunk.get("usage")) and not chunk.get("choices")


def edit_events(
    events: list[bytes],
    *,
    malformed_after: int | None = None,
    end_after: int | None = None,
    omit_usage: bool = False,
    omit_done: bool = False,
) -> EventsPlan:
    """The stream to send after the stream knobs (in this order: usage and [DONE] left out,
    the malformed event put in place of event `malformed_after`, the end after `end_after`)."""
    edited, fault = list(events), None
    if omit_usage and any(is_usage_event(e) for e in edited):
        edited, fault = [e for e in edited if not is_usage_event(e)], "no_usage"
    if omit_done and edited and edited[-1] == wire.DONE:
        edited, fault = edited[:-1], "no_done"
    if malformed_after is not None and malformed_after < len(edited):
        edited[malformed_after], fault = MALFORMED_EVENT, "malformed"
    if end_after is not None and end_after < len(edited):
        edited, fault = edited[:end_after], "end_early"
    return EventsPlan(edited, fault)


def trickle(ex: Exchange, data: bytes, interval_s: float) -> bool:
    """Send `data` one byte per `interval_s` (each its own HTTP chunk); False if the client left."""
    for i in range(len(data)):
        if not ex.wait(interval_s) or not ex.write_chunk(data[i : i + 1]):
            return False
    return True
