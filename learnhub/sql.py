"""SQL that differs between the two supported databases, written once."""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db


def insert_ignoring_duplicates(model, rows: list[dict], keys: list[str]):
    """INSERT ... ON CONFLICT DO NOTHING on the unique ``keys``; returns the primary keys inserted.

    Concurrent requests recording the same fact (a double click, two tabs) then
    neither fail nor duplicate.
    """
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    primary_key = model.__mapper__.primary_key[0]
    inserted = []
    # In batches: a statement may carry only so many parameters (SQLite 32,766, PostgreSQL 65,535).
    for start in range(0, len(rows), 1000):
        stmt = insert(model).values(rows[start:start + 1000]).on_conflict_do_nothing(index_elements=keys)
        # RETURNING rather than rowcount: drivers disagree on rowcount for ON CONFLICT.
        inserted.extend(db.session.scalars(stmt.returning(primary_key)))
    return inserted
