"""Recording and checking the audit chain. Callers commit.

An entry's hash covers its content and the previous entry's hash, so
changing, removing or reordering any stored entry breaks every link after
it, and ``verify_chain`` names the first broken one.

The hash is an HMAC keyed with a secret derived from ``SECRET_KEY``, which is
not in the database: someone who can write the database but not read the
server's configuration cannot rewrite an entry and re-hash everything after
it. What a key cannot show is entries cut off the end; for that, the head
(count and last hash, ``chain_head``) is printed on paper reports and by
``learnhub audit-head``, and ``verify_chain(expect_head=...)`` checks that the
chain still contains it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import func, select, text

from ..extensions import db
from ..models_base import utcnow
from .models import AuditEntry

GENESIS = "0" * 64
_LOCK_KEY = 7_412_203  # pg_advisory_xact_lock key for appends


def _canonical(entry_fields: dict) -> bytes:
    return json.dumps(entry_fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _fields(at: datetime, actor_id, action, object_type, object_id, subject_id, data) -> dict:
    return {"at": at.astimezone(timezone.utc).isoformat(timespec="microseconds"), "actor": actor_id,
            "action": action, "object_type": object_type, "object_id": str(object_id),
            "subject": subject_id, "data": data}


def _chain_key() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"learnhub audit chain v1", hashlib.sha256).digest()


def entry_hash(prev_hash: str, fields: dict) -> str:
    return hmac.new(_chain_key(), prev_hash.encode() + b"\n" + _canonical(fields), hashlib.sha256).hexdigest()


@dataclass
class ChainHead:
    count: int
    hash: str  # GENESIS for an empty log

    def __str__(self) -> str:
        return f"{self.count}:{self.hash}"


def chain_head() -> ChainHead:
    """How many entries the log holds and the hash of the last: written down (on a printed
    report, in a ticket), it later proves that nothing was cut off the end."""
    count = db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    last = db.session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    return ChainHead(count, last or GENESIS)


_entries = AuditEntry.__table__
_LAST_HASH = select(_entries.c.hash).order_by(_entries.c.id.desc()).limit(1)
_APPEND = _entries.insert()
_LOCK = text("SELECT pg_advisory_xact_lock(:k)")


def record(action: str, object_type: str, object_id, *, actor_id: int | None = None,
           subject_id: int | None = None, data: dict | None = None) -> None:
    """Append an entry in the caller's transaction.

    Written with Core on the session's connection, after flushing what the session holds
    (the ORM's unit of work for one row cost more than the rest of an append)."""
    db.session.flush()
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # Serialise appends across app servers until this transaction ends.
        connection.execute(_LOCK, {"k": _LOCK_KEY})
    prev = connection.scalar(_LAST_HASH) or GENESIS
    at = utcnow()
    data = json.loads(json.dumps(data or {}, default=str))
    fields = _fields(at, actor_id, action, object_type, object_id, subject_id, data)
    connection.execute(_APPEND, {"at": at, "actor_id": actor_id, "action": action, "object_type": object_type,
                                 "object_id": str(object_id), "subject_id": subject_id, "data": data,
                                 "prev_hash": prev, "hash": entry_hash(prev, fields)})


@dataclass
class ChainCheck:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify_chain(expect_head: str | None = None, batch: int = 5000) -> ChainCheck:
    """Walk the whole chain. With ``expect_head`` (a head printed earlier, as
    ``COUNT:HASH`` or just the hash), also require that entry to be still there, at
    that position: the log may have grown since, never shrunk."""
    expected_count, expected_hash = None, None
    if expect_head:
        count, _, hash_ = expect_head.strip().rpartition(":")
        expected_hash = hash_.lower()
        expected_count = int(count) if count.isdigit() else None
    seen_expected = expected_hash is None or (expected_hash == GENESIS and expected_count in (None, 0))
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.id > last_id)
                                  .order_by(AuditEntry.id).limit(batch)).all()
        if not rows:
            if not seen_expected:
                return ChainCheck(False, checked, None,
                                  f"the expected head {expect_head.strip()} is missing: entries were removed "
                                  "from the end or the log was rewritten")
            return ChainCheck(True, checked)
        for entry in rows:
            if entry.prev_hash != prev:
                return ChainCheck(False, checked, entry.id, "does not link to the entry before it")
            fields = _fields(entry.at, entry.actor_id, entry.action, entry.object_type, entry.object_id,
                             entry.subject_id, entry.data)
            if entry_hash(prev, fields) != entry.hash:
                return ChainCheck(False, checked, entry.id, "content does not match its hash")
            prev = entry.hash
            checked += 1
            last_id = entry.id
            if entry.hash == expected_hash:
                if expected_count is not None and expected_count != checked:
                    return ChainCheck(False, checked, entry.id,
                                      f"the expected head is entry {checked}, not entry {expected_count}")
                seen_expected = True
        db.session.expunge_all()
