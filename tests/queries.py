"""Counting database queries: Tortoise logs every statement on `tortoise.db_client` at DEBUG level."""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

SQL = re.compile(r'^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b', re.IGNORECASE)


@dataclass
class QueryLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


class _Collector(logging.Handler):
    def __init__(self, log: QueryLog) -> None:
        super().__init__(logging.DEBUG)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if SQL.match(message):
            self.log.statements.append(message)


@contextmanager
def count_queries() -> Iterator[QueryLog]:
    """Every SQL statement run inside the block, whichever task runs it (the page or the test)."""
    logger = logging.getLogger('tortoise.db_client')
    log = QueryLog()
    handler = _Collector(log)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield log
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
