"""SQL that differs between the two supported databases, written once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite

from .config import VIETNAM_TIMEZONE, VIETNAM_TZ

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


def local_day(column):
    """SQL expression: the calendar day (YYYY-MM-DD in Vietnam time) of a stored UTC datetime."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(VIETNAM_TIMEZONE, column), "YYYY-MM-DD")
    offset = datetime.now(VIETNAM_TZ).utcoffset()  # Vietnam keeps no daylight saving time
    return func.date(column, f"{int(offset.total_seconds()) // 3600:+d} hours")


_locking: dict[int, tuple] = {}


def for_writing(stmt, *tables):
    """``stmt`` read so that its rows stay as read, and may be written, until the
    transaction ends; a writer that got there first is waited for.

    PostgreSQL locks the rows of ``tables`` (FOR NO KEY UPDATE: rows that refer to them
    may still be inserted) and returns them as the earlier writer left them. SQLite has
    one writer at a time for the whole file: the write transaction begins before the
    read (BEGIN IMMEDIATE), so no other writer can come between the read and the write.

    Pass a statement built once (a module constant): its locking form is built once too.
    """
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")
        return stmt
    cached = _locking.get(id(stmt))
    if cached is None or cached[0] is not stmt:
        cached = _locking[id(stmt)] = (stmt, stmt.with_for_update(of=list(tables), key_share=True))
    return cached[1]
