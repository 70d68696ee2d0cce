"""Recording and checking the audit chain. Callers commit.

An entry's hash covers its content and the previous entry's hash, so
changing, removing or reordering any stored entry breaks every link after
it, and ``verify_chain`` names the first broken one.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select, text

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


def entry_hash(prev_hash: str, fields: dict) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + _canonical(fields)).hexdigest()


def record(action: str, object_type: str, object_id, *, actor_id: int | None = None,
           subject_id: int | None = None, data: dict | None = None) -> AuditEntry:
    """Append an entry in the caller's transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        # Serialise appends across app servers until this transaction ends.
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    last = db.session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    prev = last or GENESIS
    at = utcnow()
    data = json.loads(json.dumps(data or {}, default=str))
    fields = _fields(at, actor_id, action, object_type, object_id, subject_id, data)
    entry = AuditEntry(at=at, actor_id=actor_id, action=action, object_type=object_type,
                       object_id=str(object_id), subject_id=subject_id, data=data, prev_hash=prev,
                       hash=entry_hash(prev, fields))
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass
class ChainCheck:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify_chain(batch: int = 5000) -> ChainCheck:
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.id > last_id)
                                  .order_by(AuditEntry.id).limit(batch)).all()
        if not rows:
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
        db.session.expunge_all()
