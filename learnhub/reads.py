"""Hot reads without the ORM: a Core statement compiled once, run on the driver's cursor.

A page that every learner opens many times (the logged-in account on every request, the
lesson page) spends more time in SQLAlchemy's per-statement machinery (a session
transaction, an execution context, result metadata) than in the database: on SQLite the
account query takes about 4 µs in the driver and 90 µs through the session. ``first`` and
``rows`` keep what SQLAlchemy does well (the statement is written in Core, compiled by the
dialect in use, the column types still convert the values) and skip the rest.

Which connection: inside a request whose database session already has a transaction, that
same connection, so a read sees what the request wrote; otherwise a connection of the pool,
held until the request (or app context) ends, outside any transaction of the session.

Only for plain SELECTs built once (module constants or ``functools.cache``): the compiled
form is cached by the statement object. A driver error is raised as SQLAlchemy's, so a
database that went away still answers 503 (learnhub.errors), and a dropped connection is
discarded rather than returned to the pool.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

from flask import Flask, g
from sqlalchemy import exc
from sqlalchemy.sql import Select

from .extensions import db

_compiled: dict[tuple[int, str], "_Compiled"] = {}

# Called with each statement's SQL before it runs here, as SQLAlchemy's ``before_cursor_execute``
# is for the rest (statements counted by the tests see both). Empty in service.
observers: list = []


class _Compiled:
    __slots__ = ("statement", "sql", "names", "positional", "defaults", "bind_processors", "types", "dialect",
                 "result_processors", "row")

    def __init__(self, statement: Select, dialect):
        compiled = statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("reads: expanding (IN) parameters are not supported; use the session")
        self.statement = statement  # keeps the id() of the cache key from being reused
        self.sql = compiled.string
        self.positional = compiled.positional
        self.names = list(compiled.positiontup) if compiled.positional else None
        self.defaults, self.bind_processors = {}, {}
        for bind, name in compiled.bind_names.items():
            if not bind.required:
                self.defaults[name] = bind.effective_value
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.bind_processors[name] = process
        columns = list(statement.selected_columns)
        self.types = [column.type.dialect_impl(dialect) for column in columns]
        self.dialect = dialect
        self.result_processors = None  # from the first result's column type codes (PostgreSQL needs them)
        self.row = namedtuple("Row", [c.key or f"c{i}" for i, c in enumerate(columns)], rename=True)

    def learn_result(self, description) -> None:
        self.result_processors = [
            (i, process) for i, (impl, column) in enumerate(zip(self.types, description))
            if (process := impl.result_processor(self.dialect, column[1])) is not None]

    def parameters(self, params: dict[str, Any]):
        values = {**self.defaults, **params} if self.defaults else params
        if self.bind_processors:
            values = {name: (self.bind_processors[name](value) if name in self.bind_processors else value)
                      for name, value in values.items()}
        if self.positional:
            return tuple(values[name] for name in self.names)
        return values

    def convert(self, raw: tuple):
        if self.result_processors:
            raw = list(raw)
            for i, process in self.result_processors:
                raw[i] = process(raw[i])
        return self.row._make(raw)


def _compile(statement: Select, dialect) -> _Compiled:
    key = (id(statement), dialect.name)
    found = _compiled.get(key)
    if found is None or found.statement is not statement:
        found = _compiled[key] = _Compiled(statement, dialect)
    return found


def _connection():
    """(DBAPI connection, its pool record or None, dialect) for this request's reads."""
    registry = db.session.registry
    if registry.has() and (session := registry()).in_transaction():
        connection = session.connection()
        return connection.connection.dbapi_connection, None, connection.dialect
    held = g.get("_reads_connection")
    if held is None:
        engine = db.engine
        try:
            connection = engine.raw_connection()
        except engine.dialect.loaded_dbapi.Error as error:  # the pool could not connect
            raise exc.DBAPIError.instance(None, None, error, engine.dialect.loaded_dbapi.Error,
                                          dialect=engine.dialect) from error
        held = g._reads_connection = (connection, engine.dialect)
    return held[0].dbapi_connection, held[0], held[1]


def _execute(statement: Select, params: dict[str, Any], fetch: str):
    raw, pooled, dialect = _connection()
    compiled = _compile(statement, dialect)
    parameters = compiled.parameters(params)
    for observe in observers:
        observe(compiled.sql)
    cursor = None
    try:
        cursor = raw.cursor()
        cursor.execute(compiled.sql, parameters)
        if compiled.result_processors is None:
            compiled.learn_result(cursor.description)
        found = cursor.fetchone() if fetch == "one" else cursor.fetchall()
        cursor.close()
    except dialect.loaded_dbapi.Error as error:
        disconnected = dialect.is_disconnect(error, raw, cursor)
        if disconnected and pooled is not None:
            pooled.invalidate(error)
            release()
        raise exc.DBAPIError.instance(compiled.sql, parameters, error, dialect.loaded_dbapi.Error,
                                      connection_invalidated=disconnected, dialect=dialect) from error
    if fetch == "one":
        return None if found is None else compiled.convert(found)
    return [compiled.convert(row) for row in found]


def first(statement: Select, params: dict[str, Any]):
    """The first row of ``statement`` (a named tuple, values converted by the column types), or None."""
    return _execute(statement, params, "one")


def rows(statement: Select, params: dict[str, Any]) -> list:
    return _execute(statement, params, "all")


def release(exc: BaseException | None = None) -> None:
    held = g.pop("_reads_connection", None)
    if held is not None:
        try:
            held[0].close()  # back to the pool, which ends any transaction the driver began
        except Exception:  # a connection past closing (the database restarted) is discarded
            pass


def init_reads(app: Flask) -> None:
    # Per request: under the test client an app context may span several requests.
    app.teardown_request(release)
    app.teardown_appcontext(release)
