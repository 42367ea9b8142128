"""Test databases: SQLite by default; PostgreSQL when PORTAL_TEST_DATABASE_URL is set.

On PostgreSQL every test gets a database of its own (created here, dropped afterwards), so tests
never see each other's rows and a run never touches the database named in the URL itself.
"""

import asyncio
import importlib
import os
import queue
import shutil
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
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
        _dropper.drop(name)


class _Dropper:
    """Drops finished tests' PostgreSQL databases on a thread of its own while the next tests run.

    A DROP DATABASE takes 0.1-1.5 s (it waits for the server to flush the files); waiting for it in every
    test's teardown made the PostgreSQL pass spend a large part of its time there.
    """

    def __init__(self) -> None:
        self._names: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def drop(self, name: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=asyncio.run, args=(self._work(),), daemon=True)
            self._thread.start()
        self._names.put(name)

    def close(self) -> None:
        """Wait until every database handed over so far is gone."""
        if self._thread is not None:
            self._names.put(None)
            self._thread.join()
            self._thread = None

    async def _work(self) -> None:
        admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
        try:
            while (name := await asyncio.to_thread(self._names.get)) is not None:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


_dropper = _Dropper()
_migrated_template = ''


async def _template_url() -> str:
    """A database with every migration applied, made once per test run: migrating costs seconds, a copy
    milliseconds. On PostgreSQL it is a template database (dropped by `drop_migrated_template`)."""
    global _migrated_template
    if not _migrated_template:
        from portal.db import apply_migrations

        if PG_URL:
            name = TEST_DB_PREFIX + 'template_' + uuid.uuid4().hex[:12]
            admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
            try:
                await admin.execute(f'CREATE DATABASE "{name}"')
            finally:
                await admin.close()
            url = _with_database(PG_URL, name)
        else:
            url = f'sqlite://{tempfile.mkdtemp(prefix="portal-template-")}/portal.sqlite3'
        await apply_migrations(url)
        _migrated_template = url
    return _migrated_template


@asynccontextmanager
async def migrated_database_url(sqlite_dir: str) -> AsyncIterator[str]:
    """Like `fresh_database_url`, but already migrated to the latest schema (for page tests, whose app
    would otherwise run every migration at start-up). Migration tests use `fresh_database_url`."""
    template = await _template_url()
    if not PG_URL:
        path = Path(sqlite_dir) / 'portal.sqlite3'
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template.removeprefix('sqlite://'), path)
        yield f'sqlite://{path}'
        return
    name = TEST_DB_PREFIX + uuid.uuid4().hex[:16]
    admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{urlsplit(template).path.lstrip("/")}"')
    finally:
        await admin.close()
    try:
        yield _with_database(PG_URL, name)
    finally:
        _dropper.drop(name)


async def drop_migrated_template() -> None:
    """End of the run: the last test databases, then the template (SQLite's lives in a temporary folder)."""
    global _migrated_template
    _dropper.close()
    template, _migrated_template = _migrated_template, ''
    if not template:
        return
    if not PG_URL:
        shutil.rmtree(Path(template.removeprefix('sqlite://')).parent, ignore_errors=True)
        return
    admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{urlsplit(template).path.lstrip("/")}" WITH (FORCE)')
    finally:
        await admin.close()


async def append_only_audit(ctx: object) -> None:
    """Service tests build their tables with generate_schemas(), which knows no triggers: add the audit
    trail's from migration 0011, so a service that changed or deleted audit rows fails its tests too."""
    migration = importlib.import_module('models.migrations.0011_audit_append_only')
    client = ctx.connections.get('default')
    for statement in migration.SQLITE if client.capabilities.dialect == 'sqlite' else migration.POSTGRES:
        await client.execute_script(statement)


@asynccontextmanager
async def service_context(modules: list[str]) -> AsyncIterator[object]:
    """`tortoise_test_context()` on in-memory SQLite, or on a per-test PostgreSQL database."""
    from tortoise.contrib.test import tortoise_test_context

    if not PG_URL:
        async with tortoise_test_context(modules) as ctx:
            await append_only_audit(ctx)
            yield ctx
        return
    template = _with_database(PG_URL, TEST_DB_PREFIX + '{}')
    name = None
    try:
        async with tortoise_test_context(modules, db_url=template) as ctx:
            name = ctx.connections.get('default').database
            await append_only_audit(ctx)
            yield ctx
    finally:
        if name:
            _dropper.drop(name)
