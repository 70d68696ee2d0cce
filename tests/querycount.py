"""Every statement sent to the database while active: through SQLAlchemy's engine and through
``learnhub.reads`` (which runs hot reads on the driver's cursor)."""
from __future__ import annotations

from sqlalchemy import event

from learnhub import reads


class Statements:
    def __init__(self, engine):
        self.engine, self.sql = engine, []

    def _record(self, conn, cursor, statement, *args):
        self.sql.append(statement)

    @property
    def writes(self) -> list[str]:
        return [s for s in self.sql if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        reads.observers.append(self.sql.append)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._record)
        reads.observers.remove(self.sql.append)


def count_queries(db, fn) -> int:
    with Statements(db.engine) as seen:
        fn()
    return len(seen.sql)
