"""What every benchmark needs: databases made for the run and dropped after it, percentiles, verdicts."""

import argparse
import contextvars
import logging
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from tortoise.context import TortoiseContext

from portal.db import apply_migrations, tortoise_config

DEFAULT_PG_URL = os.environ.get('PORTAL_BENCH_DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/test')


def header(title: str) -> None:
    """Date and machine first: a number means little without where and when it was measured."""
    now = datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')
    print(f'# {title}')
    print(f'# {now} | {os.cpu_count()} cores | Python {platform.python_version()} | {platform.platform(terse=True)}')


def add_database_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--database-url',
        default=DEFAULT_PG_URL,
        help='PostgreSQL server to also measure on (a database of its own is created and dropped); '
        "'' to measure SQLite only",
    )
    parser.add_argument('--only', choices=('sqlite', 'postgres'), help=argparse.SUPPRESS)


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile: with 200 samples p95 is the 190th, an actually observed value."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary(samples_seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_seconds]
    return {
        'n': len(ms),
        'p50': percentile(ms, 50),
        'p95': percentile(ms, 95),
        'max': max(ms),
        'mean': statistics.fmean(ms),
    }


def row(label: str, stats: dict[str, float], width: int = 34) -> str:
    return (
        f'{label:<{width}} n={stats["n"]:<5} p50={stats["p50"]:8.2f} ms  p95={stats["p95"]:8.2f} ms  '
        f'max={stats["max"]:8.2f} ms'
    )


def ratio(value: float, baseline: float) -> str:
    return f'{value / baseline:.1f}x' if baseline > 0 else 'n/a'


def verdict(ok: bool, text: str) -> str:
    return f'VERDICT: {"PASS" if ok else "MISS"} - {text}'


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await call()
    return time.perf_counter() - start


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, '/' + name, parts.query, parts.fragment))


def _asyncpg_dsn(url: str) -> str:
    return 'postgresql' + url[url.index('://') :]


async def postgres_reachable(url: str) -> bool:
    if not url:
        return False
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


@asynccontextmanager
async def bench_database(kind: str, pg_url: str, name: str) -> AsyncIterator[str]:
    """A URL for an empty database of `kind` ('sqlite' file in a temp dir, or 'postgres'), dropped afterwards.

    On PostgreSQL the database is `name` plus a random suffix on `pg_url`'s server, so the database named
    in the URL itself is never touched and two runs never collide.
    """
    if kind == 'sqlite':
        with tempfile.TemporaryDirectory(prefix=name + '-') as folder:
            yield f'sqlite://{folder}/bench.sqlite3'
        return
    database = f'{name}_{uuid.uuid4().hex[:8]}'
    admin = await asyncpg.connect(_asyncpg_dsn(pg_url))
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    try:
        yield _with_database(pg_url, database)
    finally:
        admin = await asyncpg.connect(_asyncpg_dsn(pg_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def orm(url: str) -> AsyncIterator[TortoiseContext]:
    """The schema from the real migrations, and a Tortoise context on it, as the app has at start-up."""
    await apply_migrations(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        yield ctx


async def database_kinds(pg_url: str) -> list[str]:
    kinds = ['sqlite']
    if await postgres_reachable(pg_url):
        kinds.append('postgres')
    else:
        print(f'(PostgreSQL at {pg_url or "-"} is not reachable: measuring SQLite only)')
    return kinds


async def for_each_database(module: str, args: argparse.Namespace, run: Callable[[str], Awaitable[bool]]) -> list[bool]:
    """Run `run(kind)` here when `--only` names the kind, else each kind in a child process of its own.

    Tortoise binds models to the dialect of the first database they were initialised on (cached SQL with
    `?` or `$1` placeholders), so SQLite and PostgreSQL cannot be measured one after the other in one process.
    """
    if args.only:
        return [await run(args.only)]
    results = []
    for kind in await database_kinds(args.database_url):
        sys.stdout.flush()
        child = subprocess.run([sys.executable, '-m', module, *sys.argv[1:], '--only', kind], check=False)
        if child.returncode not in (0, 1):
            print(f'({kind} run failed with exit code {child.returncode})')
        results.append(child.returncode == 0)
    return results


def exit_code(results: list[bool]) -> int:
    return 0 if all(results) else 1


_counting: contextvars.ContextVar['QueryLog | None'] = contextvars.ContextVar('query_log', default=None)


class QueryLog(logging.Handler):
    """Every SQL statement Tortoise sends from the code inside the `with` block (and the tasks it starts), read
    from its 'tortoise.db_client' debug log.

    Counting at the log covers every client, including the wrappers transactions use, without patching. The
    app's background loops (outbox, reminders) run in tasks started before the block, in a context without
    this log: their statements are not the page's, and on a busy machine they used to land in the count.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, list]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if _counting.get() is not self:
            return
        if record.msg == '%s: %s' and isinstance(record.args, tuple) and len(record.args) == 2:
            self.statements.append((str(record.args[0]), list(record.args[1] or [])))

    def clear(self) -> None:
        self.statements.clear()

    def __enter__(self) -> 'QueryLog':
        logger = logging.getLogger('tortoise.db_client')
        self._saved = (logger.level, logger.propagate)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False  # count them, do not print them
        logger.addHandler(self)
        self._token = _counting.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _counting.reset(self._token)
        logger = logging.getLogger('tortoise.db_client')
        logger.removeHandler(self)
        logger.setLevel(self._saved[0])
        logger.propagate = self._saved[1]
