"""The audit hash chain: each entry's SHA-256 covers its own content and the previous entry's hash.

Pure functions over plain values, so the same code writes the chain and verifies it, and an auditor can
re-implement the check from this file alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS_HASH = "0" * 64
_SEP = "\x1f"


def timestamp_text(moment: datetime) -> str:
    """UTC time to microsecond precision; naive datetimes are taken as UTC (how SQLite returns them)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    # Same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ") for years 1000-9999, at a fraction of its cost.
    return moment.isoformat(timespec="microseconds") + "Z"


def canonical_text(seq: int, recorded_at: str, rest: Sequence[str]) -> str:
    """The one canonical form, for writer and verifier alike: the `COLUMNS` values up to and including
    `prev_hash`, as text, joined by the unit separator (U+001F)."""
    return _SEP.join((str(seq), recorded_at, *rest))


def chain_digest(seq: int, recorded_at: str, rest: Sequence[str]) -> str:
    """SHA-256 over the UTF-8 bytes of the canonical text."""
    return hashlib.sha256(canonical_text(seq, recorded_at, rest).encode("utf-8")).hexdigest()


def entry_hash(
    *,
    seq: int,
    recorded_at: str,
    actor_kind: str,
    actor_id: str,
    actor_name: str,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    changes: str,
    reason: str,
    request_id: str,
    prev_hash: str,
) -> str:
    return chain_digest(
        seq,
        recorded_at,
        (actor_kind, actor_id, actor_name, action, object_type, object_id, object_repr, changes, reason, request_id, prev_hash),
    )


# Column order shared by the writer, the verifier's query and `verify_rows`.
COLUMNS = (
    "seq",
    "recorded_at",
    "actor_kind",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "reason",
    "request_id",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    problem: str  # "edited", "missing", "inserted"
    detail: str


@dataclass
class ChainState:
    """Where verification stands after a batch, so a long chain is checked page by page."""

    expected_seq: int = 1
    prev_hash: str = GENESIS_HASH
    checked: int = 0


def verify_rows(rows: Iterable[Sequence], state: ChainState) -> ChainBreak | None:
    """Check full rows (in `COLUMNS` order, ascending seq) continuing from `state`; return the first break.

    `recorded_at` may come as the `timestamp_text` string or as a datetime."""
    return verify_canonical_rows(
        (
            (row[0], row[12], row[13],
             canonical_text(row[0], row[1] if row[1].__class__ is str else timestamp_text(row[1]), row[2:13]))
            for row in rows
        ),
        state,
    )


def verify_canonical_rows(rows: Iterable[Sequence], state: ChainState) -> ChainBreak | None:
    """Check rows of (seq, prev_hash, hash, canonical text) in ascending seq, continuing from `state`.

    The database can render the canonical text itself (see `audit.selectors.canonical_text_sql`), which
    makes a row one string instead of fourteen values: the verifier's hot loop."""
    sha256 = hashlib.sha256
    expected_seq = state.expected_seq
    prev_hash = state.prev_hash
    broken = None
    for seq, row_prev_hash, row_hash, text in rows:
        if seq != expected_seq:
            if seq > expected_seq:
                gap = f"entry {expected_seq} is" if seq == expected_seq + 1 else f"entries {expected_seq}..{seq - 1} are"
                broken = ChainBreak(expected_seq, "missing", f"{gap} missing")
            else:
                broken = ChainBreak(seq, "inserted", f"entry {seq} is out of sequence")
            break
        if row_prev_hash != prev_hash:
            broken = ChainBreak(seq, "inserted", f"entry {seq} does not link to the entry before it")
            break
        if text is None or sha256(text.encode("utf-8")).hexdigest() != row_hash:
            broken = ChainBreak(seq, "edited", f"entry {seq} does not match its hash")
            break
        prev_hash = row_hash
        expected_seq += 1
    state.checked += expected_seq - state.expected_seq
    state.expected_seq = expected_seq
    state.prev_hash = prev_hash
    return broken
