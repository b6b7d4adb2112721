"""Child process for the kill -9 durability tests: records rows, flushes, reports progress.

Usage: ``python ledger_kill_helper.py DB once N`` records N rows, flushes, prints ``ready``
and sleeps until killed. ``python ledger_kill_helper.py DB continuous BATCH`` records batches of
BATCH rows forever, printing ``flushed <total>`` after each flush; the parent kills it while it
is still writing.
"""

from __future__ import annotations

import sys
import time

from flashpro.ledger import CallRecord, Ledger


def _row(i: int) -> CallRecord:
    return CallRecord(
        request_id=f"req-{i}",
        kind="fim",
        role="executor",
        model_requested="deepseek-flash",
        file_uri="file:///ws/a.py",
        prompt_tokens=1000,
        cache_hit_tokens=900,
        cache_miss_tokens=100,
        output_tokens=20,
        cost_usd=0.0000507,
        details={"i": i},
    )


def main(argv: list[str]) -> int:
    path, mode, count = argv[0], argv[1], int(argv[2])
    ledger = Ledger(path)
    if mode == "once":
        for i in range(count):
            ledger.record(_row(i))
        if not ledger.flush(30):
            return 1
        print("ready", flush=True)
        while True:
            time.sleep(60)
    total = 0
    while True:
        for _ in range(count):
            ledger.record(_row(total))
            total += 1
        if not ledger.flush(30):
            return 1
        print(f"flushed {total}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
