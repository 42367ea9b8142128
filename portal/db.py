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
