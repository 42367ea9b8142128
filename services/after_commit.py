"""What a service does once its data is committed: send the email it queued, tell open pages to re-read.

A service does these steps right after its own transaction. When a caller wraps several services in
one outer transaction (a FHIR transaction Bundle, the demo seed), the services' transactions
are only savepoints and "after" is still inside the outer one: an email would go out about a visit the
Bundle may yet roll back, and the tasks started for it (a delivery, a page's re-read) would inherit the
transaction's connection and use it at the same time as the Bundle, which asyncpg refuses ("another
operation is in progress"). `outer_transaction` holds the steps until it has committed and drops them
if it rolls back. A step asked for while some other transaction is open, with nothing holding steps, is
a mistake in the calling service and raises at once, on SQLite as on PostgreSQL.
"""

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from contextvars import ContextVar

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.context import get_current_context
from tortoise.exceptions import ConfigurationError
from tortoise.transactions import in_transaction

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[None] | None]

_held: ContextVar[dict[Hashable, Step] | None] = ContextVar('after_commit_held', default=None)


class StepInsideTransaction(RuntimeError):
    """A service asked for an after-commit step while a transaction it does not own was still open."""


@asynccontextmanager
async def outer_transaction() -> AsyncIterator[None]:
    """One transaction around several services; their after-commit steps run once it has committed.
    Inside another outer transaction this is a savepoint, and the outermost one runs the steps."""
    if _held.get() is not None:
        async with in_transaction():
            yield
        return
    held: dict[Hashable, Step] = {}
    token = _held.set(held)
    try:
        async with in_transaction():
            yield
    finally:
        _held.reset(token)
    for key, step in held.items():
        try:
            result = step()
            if inspect.isawaitable(result):
                await result
        except Exception:  # the data is committed: one lost announcement must not hide the others
            log.exception('after-commit step %s failed', key)


def hold(key: Hashable, step: Step) -> bool:
    """True if an outer transaction took the step (run once per key after it commits); False if the
    caller may do it now. Raises StepInsideTransaction if an un-held transaction is open."""
    held = _held.get()
    if held is not None:
        held.setdefault(key, step)
        return True
    if _transaction_open():
        raise StepInsideTransaction(
            f'{key!r} was asked for inside an open transaction: do it after the commit, '
            'or wrap the caller in after_commit.outer_transaction()'
        )
    return False


def _transaction_open() -> bool:
    context = get_current_context()
    if context is None:  # no database in this process (a unit test of the event bus)
        return False
    try:
        return isinstance(context.connections.get('default'), TransactionalDBClient)
    except ConfigurationError:
        return False
