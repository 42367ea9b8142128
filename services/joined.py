"""Statements written once, for the queries every page load runs, with the rows built into Tortoise models.

Tortoise builds each query with pypika on every call, and its `select_related` and `prefetch_related`
cost as much CPU as separate queries (the session, account, patient and practice of a patient page:
0.93 ms against 0.97 ms for two queries). Here the SELECT is written once per database dialect, each
model's columns under an alias of its own, and the models are built from the row with Tortoise's own
`_init_from_db`, as its executor does: 0.15-0.25 ms for the same four (issue 11, `bench.page_cost`).
"""

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

M = TypeVar('M', bound=Model)


@functools.cache
def _columns(model: type[Model]) -> tuple[str, ...]:
    """The columns `_init_from_db` reads, in its own order (known once Tortoise has started)."""
    meta = model._meta
    return tuple(key for key, _, _ in (*meta.db_native_fields, *meta.db_default_fields, *meta.db_complex_fields))


def parameter(connection: BaseDBAsyncClient, number: int) -> str:
    """The `number`th (from 1) parameter's placeholder: `$1` for PostgreSQL, `?1` for SQLite (numbered on
    both, so a statement may use a parameter twice)."""
    return f'${number}' if connection.capabilities.dialect == 'postgres' else f'?{number}'


@functools.cache
def _keys(model: type[Model], alias: str) -> tuple[tuple[str, str], ...]:
    """Each column `_init_from_db` reads, with its name in a row of `selected(model, alias)`."""
    return tuple((column, f'{alias}_{column}') for column in _columns(model))


def selected(model: type[Model], alias: str) -> str:
    """The SELECT list of `model`'s columns from the table aliased `alias`, each named `<alias>_<column>`."""
    return ', '.join(f'{alias}."{column}" AS "{key}"' for column, key in _keys(model, alias))


def nulls(connection: BaseDBAsyncClient, model: type[Model], alias: str) -> str:
    """The same names as `selected(model, alias)`, each NULL: the other parts' columns in one part of a UNION.
    PostgreSQL types a UNION's columns part by part, so there each NULL carries its column's type."""
    if connection.capabilities.dialect != 'postgres':
        return ', '.join(f'NULL AS "{key}"' for _, key in _keys(model, alias))
    meta = model._meta
    types = {
        column: meta.fields_map[name].get_for_dialect('postgres', 'SQL_TYPE')
        for column, name in meta.fields_db_projection_reverse.items()
    }
    return ', '.join(f'CAST(NULL AS {types[column]}) AS "{key}"' for column, key in _keys(model, alias))


def build(model: type[M], row: Mapping[str, Any], alias: str) -> M:
    """The model from the columns `selected(model, alias)` put in `row`."""
    return model._init_from_db(**{column: row[key] for column, key in _keys(model, alias)})


def build_or_none(model: type[M], row: Mapping[str, Any], alias: str) -> M | None:
    """`build`, or None where a LEFT JOIN found no row (its id is NULL)."""
    return build(model, row, alias) if row[f'{alias}_id'] is not None else None


def attach(owner: Model, name: str, related: Model | None) -> None:
    """`owner.<name>` (a foreign key) answers `related` without a query, as after `select_related`."""
    object.__setattr__(owner, f'_{name}', related)  # where Tortoise keeps a fetched relation


class Statement:
    """A statement written once per database dialect, by `write(connection)` on first use, and run on `model`'s
    connection (the transaction's, inside one); its rows come as dicts (a database row finds a column by name
    one by one)."""

    def __init__(self, model: type[Model], write: Callable[[BaseDBAsyncClient], str]) -> None:
        self.model = model
        self.write = write
        self._sql: dict[str, str] = {}

    async def rows(self, parameters: Sequence[Any]) -> list[dict[str, Any]]:
        connection = self.model._meta.db
        dialect = connection.capabilities.dialect
        sql = self._sql.get(dialect)
        if sql is None:
            sql = self._sql[dialect] = self.write(connection)
        _, rows = await connection.execute_query(sql, list(parameters))
        return [dict(row) for row in rows]


class Chain(Generic[M]):
    """`root`, then each foreign key along `path` (`('account', 'patient', 'practice')`), in one SELECT."""

    def __init__(self, root: type[M], path: Sequence[str]) -> None:
        self.root = root
        self.path = tuple(path)
        self._sql: dict[tuple[str, tuple[tuple[str, bool], ...]], str] = {}

    @functools.cached_property
    def _shape(self) -> tuple[list[type[Model]], list[tuple[str, str]]]:
        """The models and links (attribute on the previous model, its column): read on first use,
        because Tortoise fills in relations when it starts, after this module is imported."""
        models: list[type[Model]] = [self.root]
        links = []
        for name in self.path:
            field = models[-1]._meta.fields_map[name]
            links.append((name, field.source_field))  # type: ignore[attr-defined]
            models.append(field.related_model)  # type: ignore[attr-defined]
        return models, links

    def _statement(self, connection: BaseDBAsyncClient, where: tuple[tuple[str, bool], ...]) -> str:
        """SELECT ... WHERE t0.<column> = <placeholder> (or IS NULL for a None), the first row only."""
        models, links = self._shape
        columns = ', '.join(selected(model, f't{i}') for i, model in enumerate(models))
        joins = ''.join(
            f' JOIN "{model._meta.db_table}" t{i + 1} ON t{i + 1}."{model._meta.db_pk_column}" = t{i}."{column}"'
            for i, ((_, column), model) in enumerate(zip(links, models[1:], strict=True))
        )
        conditions, number = [], 0
        for column, is_null in where:
            if is_null:
                conditions.append(f't0."{column}" IS NULL')
            else:
                number += 1
                conditions.append(f't0."{column}" = {parameter(connection, number)}')
        return f'SELECT {columns} FROM "{self.root._meta.db_table}" t0{joins} WHERE {" AND ".join(conditions)} LIMIT 1'

    async def first(self, **where: Any) -> M | None:
        """The root model of the first matching row (None when none), each link already loaded."""
        connection = self.root._meta.db  # the transaction's, inside one
        shape = tuple((column, value is None) for column, value in where.items())
        key = (connection.capabilities.dialect, shape)
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = self._statement(connection, shape)
        _, rows = await connection.execute_query(sql, [value for value in where.values() if value is not None])
        if not rows:
            return None
        models, links = self._shape
        row = dict(rows[0])  # a database row finds a column by name one by one
        built = [build(model, row, f't{i}') for i, model in enumerate(models)]
        for (name, _), owner, related in zip(links, built, built[1:], strict=False):
            attach(owner, name, related)
        return cast(M, built[0])
