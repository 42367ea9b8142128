"""One statement for a row and the rows its foreign keys lead to, built into Tortoise models.

Every patient page starts with the session, its account, the patient and their practice. Tortoise's
`select_related` builds that join with pypika on every call, which costs as much CPU as two separate
queries; `Chain` writes the statement once per database dialect and builds the models from the row with
Tortoise's own `_init_from_db`, as its executor does (issue 11, `bench.page_cost`).
"""

import functools
from collections.abc import Sequence
from typing import Any, Generic, TypeVar, cast

from tortoise.models import Model

M = TypeVar('M', bound=Model)
_PLACEHOLDERS = {'postgres': lambda n: f'${n}'}  # the others (SQLite) take `?`


def _columns(model: type[Model]) -> list[str]:
    """The columns `_init_from_db` reads, in its own order."""
    meta = model._meta
    return [key for key, _, _ in (*meta.db_native_fields, *meta.db_default_fields, *meta.db_complex_fields)]


class Chain(Generic[M]):
    """`root`, then each foreign key along `path` (`('account', 'patient', 'practice')`), in one SELECT."""

    def __init__(self, root: type[M], path: Sequence[str]) -> None:
        self.root = root
        self.path = tuple(path)
        self._sql: dict[tuple[str, tuple[tuple[str, bool], ...]], str] = {}

    @functools.cached_property
    def _shape(self) -> tuple[list[type[Model]], list[tuple[str, str]], list[list[str]]]:
        """The models, links (attribute on the previous model, its column) and columns: read on first use,
        because Tortoise fills in relations and columns when it starts, after this module is imported."""
        models: list[type[Model]] = [self.root]
        links = []
        for name in self.path:
            field = models[-1]._meta.fields_map[name]
            links.append((name, field.source_field))  # type: ignore[attr-defined]
            models.append(field.related_model)  # type: ignore[attr-defined]
        return models, links, [_columns(model) for model in models]

    def _statement(self, dialect: str, where: tuple[tuple[str, bool], ...]) -> str:
        """SELECT ... WHERE t0.<column> = <placeholder> (or IS NULL for a None), the first row only."""
        models, links, columns_of = self._shape
        placeholder = _PLACEHOLDERS.get(dialect, lambda n: '?')
        selected = ', '.join(
            f't{i}."{column}" AS "t{i}_{column}"' for i, columns in enumerate(columns_of) for column in columns
        )
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
                conditions.append(f't0."{column}" = {placeholder(number)}')
        return f'SELECT {selected} FROM "{self.root._meta.db_table}" t0{joins} WHERE {" AND ".join(conditions)} LIMIT 1'

    async def first(self, **where: Any) -> M | None:
        """The root model of the first matching row (None when none), each link already loaded."""
        connection = self.root._meta.db  # the transaction's, inside one
        key = (connection.capabilities.dialect, tuple((column, value is None) for column, value in where.items()))
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = self._statement(*key)
        _, rows = await connection.execute_query(sql, [value for value in where.values() if value is not None])
        if not rows:
            return None
        row = rows[0]
        models, links, columns_of = self._shape
        built = [
            model._init_from_db(**{column: row[f't{i}_{column}'] for column in columns})
            for i, (model, columns) in enumerate(zip(models, columns_of, strict=True))
        ]
        for (name, _), owner, related in zip(links, built, built[1:], strict=False):
            object.__setattr__(owner, f'_{name}', related)  # where Tortoise keeps a fetched relation
        return cast(M, built[0])
