"""Test databases: SQLite by default; PostgreSQL when PORTAL_TEST_DATABASE_URL is set.

On PostgreSQL every test gets a database of its own (created here, dropped afterwards), so tests
never see each other's rows and a run never touches the database named in the URL itself.
"""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg

PG_URL = os.environ.get('PORTAL_TEST_DATABASE_URL', '')
TEST_DB_PREFIX = 'portal_t_'


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, '/' + name, parts.query, parts.fragment))


def _asyncpg_dsn(url: str) -> str:
    return 'postgresql' + url[url.index('://') :]


@asynccontextmanager
async def fresh_database_url(sqlite_dir: str) -> AsyncIterator[str]:
    """A URL for an empty database that exists for the duration of the block."""
    if not PG_URL:
        yield f'sqlite://{sqlite_dir}/portal.sqlite3'
        return
    name = TEST_DB_PREFIX + uuid.uuid4().hex[:16]
    admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _with_database(PG_URL, name)
    finally:
        admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def service_context(modules: list[str]) -> AsyncIterator[object]:
    """`tortoise_test_context()` on in-memory SQLite, or on a per-test PostgreSQL database."""
    from tortoise.contrib.test import tortoise_test_context

    if not PG_URL:
        async with tortoise_test_context(modules) as ctx:
            yield ctx
        return
    template = _with_database(PG_URL, TEST_DB_PREFIX + '{}')
    name = None
    try:
        async with tortoise_test_context(modules, db_url=template) as ctx:
            name = ctx.connections.get('default').database
            yield ctx
    finally:
        if name:
            admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()
