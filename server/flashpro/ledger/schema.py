"""The ledger's SQLite schema as append-only numbered migrations, and the code that applies them.

``MIGRATIONS`` is a list of steps; step *n* (1-based) is a tuple of SQL statements. A
``migrations`` table records which steps ran. Never edit or reorder a step that has shipped:
add a new one at the end. Steps run inside ``BEGIN IMMEDIATE`` so two processes opening the same
ledger at once cannot apply a step twice.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from typing import Final

__all__ = [
    "ATTEMPT_COLUMNS",
    "CALL_COLUMNS",
    "MIGRATIONS",
    "NODE_COLUMNS",
    "TASK_COLUMNS",
    "apply_migrations",
    "configure",
    "schema_version",
]

logger = logging.getLogger(__name__)

MIGRATIONS: Final[list[tuple[str, ...]]] = [
    # 1: one row per API call, cancelled and failed calls included.
    (
        """
        CREATE TABLE calls (
            id INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL UNIQUE,
            time_utc TEXT NOT NULL,
            session_id TEXT,
            workspace TEXT,
            file_uri TEXT,
            kind TEXT NOT NULL,
            role TEXT NOT NULL,
            model_requested TEXT NOT NULL,
            model_reported TEXT,
            prompt_tokens INTEGER,
            cache_hit_tokens INTEGER,
            cache_miss_tokens INTEGER,
            output_tokens INTEGER,
            reasoning_tokens INTEGER,
            cost_usd REAL,
            latency_first_ms INTEGER,
            latency_total_ms INTEGER,
            status TEXT NOT NULL,
            error_kind TEXT,
            outcome TEXT,
            accepted_chars INTEGER,
            shown_chars INTEGER,
            details TEXT,
            prompt_text TEXT
        )
        """,
        "CREATE INDEX calls_time ON calls (time_utc)",
        "CREATE INDEX calls_file_time ON calls (file_uri, time_utc)",
        "CREATE INDEX calls_session ON calls (session_id)",
        "CREATE INDEX calls_workspace_time ON calls (workspace, time_utc)",
    ),
    # 2: tasks ("Implement this"): the task, its nodes and their attempts; calls name their task.
    (
        "ALTER TABLE calls ADD COLUMN task_id TEXT",
        "ALTER TABLE calls ADD COLUMN node_id TEXT",
        "ALTER TABLE calls ADD COLUMN attempt INTEGER",
        "CREATE INDEX calls_task ON calls (task_id)",
        """
        CREATE TABLE tasks (
            id TEXT PRIMARY KEY,
            created_utc TEXT NOT NULL,
            finished_utc TEXT,
            session_id TEXT,
            workspace TEXT,
            source_uri TEXT,
            combination TEXT NOT NULL,
            goal TEXT,
            plan_json TEXT,
            status TEXT NOT NULL,
            nodes_total INTEGER,
            nodes_passed INTEGER,
            attempts INTEGER,
            escalations INTEGER,
            human_interventions INTEGER,
            rework_count INTEGER,
            tool_failures INTEGER,
            checks_run INTEGER,
            checks_passed INTEGER,
            review_findings INTEGER,
            applied INTEGER,
            accepted_share REAL,
            wall_ms INTEGER,
            max_usd REAL,
            details TEXT
        )
        """,
        "CREATE INDEX tasks_created ON tasks (created_utc)",
        """
        CREATE TABLE nodes (
            task_id TEXT NOT NULL,
            node_id TEXT NOT NULL,
            title TEXT,
            role TEXT,
            model TEXT,
            status TEXT NOT NULL,
            attempts INTEGER,
            escalated INTEGER,
            replicas INTEGER,
            wall_ms INTEGER,
            PRIMARY KEY (task_id, node_id)
        )
        """,
        """
        CREATE TABLE attempts (
            task_id TEXT NOT NULL,
            node_id TEXT NOT NULL,
            n INTEGER NOT NULL,
            replica INTEGER NOT NULL,
            model TEXT,
            outcome TEXT NOT NULL,
            call_request_id TEXT,
            checks_json TEXT,
            ms INTEGER,
            PRIMARY KEY (task_id, node_id, n, replica)
        )
        """,
    ),
]

CALL_COLUMNS: Final = (
    "request_id",
    "time_utc",
    "session_id",
    "workspace",
    "file_uri",
    "kind",
    "role",
    "model_requested",
    "model_reported",
    "prompt_tokens",
    "cache_hit_tokens",
    "cache_miss_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cost_usd",
    "latency_first_ms",
    "latency_total_ms",
    "status",
    "error_kind",
    "outcome",
    "accepted_chars",
    "shown_chars",
    "details",
    "prompt_text",
    "task_id",
    "node_id",
    "attempt",
)
"""The columns a :class:`CallRecord` fills, in table order (``id`` is assigned by SQLite)."""

TASK_COLUMNS: Final = (
    "id",
    "created_utc",
    "finished_utc",
    "session_id",
    "workspace",
    "source_uri",
    "combination",
    "goal",
    "plan_json",
    "status",
    "nodes_total",
    "nodes_passed",
    "attempts",
    "escalations",
    "human_interventions",
    "rework_count",
    "tool_failures",
    "checks_run",
    "checks_passed",
    "review_findings",
    "applied",
    "accepted_share",
    "wall_ms",
    "max_usd",
    "details",
)
"""The columns of a task row (``Ledger.write_task`` upserts them by ``id``)."""

NODE_COLUMNS: Final = (
    "task_id", "node_id", "title", "role", "model", "status", "attempts", "escalated", "replicas", "wall_ms"
)
ATTEMPT_COLUMNS: Final = (
    "task_id", "node_id", "n", "replica", "model", "outcome", "call_request_id", "checks_json", "ms"
)

_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS migrations (
    id INTEGER PRIMARY KEY,
    applied_utc TEXT NOT NULL
)
"""


def configure(conn: sqlite3.Connection, *, busy_timeout_ms: int = 5000) -> None:
    """Per-connection settings: WAL journal, NORMAL sync (durable against process kills)."""
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


def schema_version(conn: sqlite3.Connection) -> int:
    """The highest migration step recorded in ``conn`` (0 for a new database)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'"
    ).fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT MAX(id) FROM migrations").fetchone()
    return int(row[0] or 0)


def apply_migrations(conn: sqlite3.Connection) -> int:
    """Run every step not yet recorded, each in its own transaction; return the schema version.

    ``conn`` must be in autocommit mode (``isolation_level=None``).
    """
    conn.execute(_MIGRATIONS_TABLE)
    for number, statements in enumerate(MIGRATIONS, start=1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            done = conn.execute("SELECT 1 FROM migrations WHERE id = ?", (number,)).fetchone()
            if not done:
                for statement in statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO migrations (id, applied_utc) VALUES (?, ?)",
                    (number, datetime.now(UTC).isoformat()),
                )
                logger.info("ledger: applied migration %s", number)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    version = schema_version(conn)
    if version > len(MIGRATIONS):
        logger.warning(
            "ledger schema version %s is newer than this flashpro knows (%s); writing anyway",
            version,
            len(MIGRATIONS),
        )
    return version
