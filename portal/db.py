"""Database wiring: the Tortoise config and the migrations that build the schema.

The schema comes from Tortoise's own migrations (`models/migrations`), applied at start-up and by
`python main.py migrate`; `tortoise makemigrations` writes new ones (config: `portal.db.TORTOISE_ORM`).
"""

import asyncio
import contextlib
import fcntl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
from tortoise.context import TortoiseContext
from tortoise.exceptions import DBConnectionError
from tortoise.migrations.api import migrate

from models import MODEL_MODULES


def tortoise_config(database_url: str) -> dict[str, Any]:
    if database_url.startswith('sqlite://'):
        path = database_url.removeprefix('sqlite://')
        if path and path != ':memory:':
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return {
        'connections': {'default': database_url},
        'apps': {
            'models': {
                'models': MODEL_MODULES,
                'default_connection': 'default',
                'migrations': 'models.migrations',
            }
        },
        'use_tz': True,
        'timezone': 'UTC',
    }


# What a lost or refused database connection raises: asyncpg's connection errors, the server shutting down or
# refusing connections, the socket's own errors (a reset or a refusal, a timeout while connecting).
_UNREACHABLE = (
    DBConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    ConnectionError,
    TimeoutError,
)


def is_unreachable(error: BaseException) -> bool:
    """Whether `error` (or what caused it) says the database could not be reached, rather than a bug.

    A page answers the two differently: "try again in a minute" (503) for this, "something went wrong"
    (500) for anything else. asyncpg's pool replaces a lost connection on the next acquire, so once the
    database is back the app recovers by itself, with no restart.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _UNREACHABLE):
            return True
        if isinstance(current, asyncpg.InterfaceError) and 'connection' in str(current):
            return True  # "connection is closed", "connection was released back to the pool"
        current = current.__cause__ or current.__context__
    return False


# Any fixed number: the PostgreSQL advisory lock that lets one instance migrate while the others wait.
MIGRATION_LOCK_KEY = 7_240_311


async def apply_migrations(database_url: str) -> None:
    """Bring the database to the latest migration; a no-op when it already is."""
    config = tortoise_config(database_url)
    async with _migration_lock(database_url), TortoiseContext() as ctx:
        await ctx.init(config=config, init_connections=False)
        await migrate(config=config)


@contextlib.asynccontextmanager
async def _file_lock(sqlite_path: str) -> AsyncIterator[None]:
    if not sqlite_path or sqlite_path == ':memory:':
        yield
        return
    with open(f'{sqlite_path}.migrate-lock', 'a') as handle:
        await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.asynccontextmanager
async def _migration_lock(database_url: str) -> AsyncIterator[None]:
    """Instances (or `main.py migrate` and a starting server) must not run the same migration twice:
    a PostgreSQL advisory lock, or for SQLite a lock file beside the database."""
    if database_url.startswith('sqlite://'):
        async with _file_lock(database_url.removeprefix('sqlite://')):
            yield
        return
    connection = await asyncpg.connect('postgresql' + database_url[database_url.index('://') :].split('?')[0])
    try:
        await connection.execute('SELECT pg_advisory_lock($1)', MIGRATION_LOCK_KEY)
        yield
    finally:
        await connection.close()  # closing the session releases the lock


def _cli_config() -> dict[str, Any]:
    from portal.config import Settings

    return tortoise_config(Settings().database_url)


def __getattr__(name: str) -> Any:
    """`TORTOISE_ORM` for the `tortoise` command line, computed from the environment on demand."""
    if name == 'TORTOISE_ORM':
        return _cli_config()
    raise AttributeError(name)
