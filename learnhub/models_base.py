"""Declarative base with a naming convention, so Alembic names constraints stably."""
from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def insert_ignoring_duplicates(model, rows: list[dict], keys: list[str]):
    """INSERT ... ON CONFLICT DO NOTHING on the unique ``keys``; returns the ids inserted.

    Concurrent requests recording the same fact (a double click, two tabs) then
    neither fail nor duplicate.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    from .extensions import db

    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    inserted = []
    # In batches: a statement may carry only so many parameters (SQLite 32,766, PostgreSQL 65,535).
    for start in range(0, len(rows), 1000):
        stmt = insert(model).values(rows[start:start + 1000]).on_conflict_do_nothing(index_elements=keys)
        # RETURNING rather than rowcount: drivers disagree on rowcount for ON CONFLICT.
        inserted.extend(db.session.scalars(stmt.returning(model.id)))
    return inserted
