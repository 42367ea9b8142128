"""Backups an operator can trust: one file holding a consistent database snapshot and the data
directory's secret, restored only into an empty installation.

The snapshot is taken while the portal runs: SQLite's online backup API copies a consistent state
page by page, and `pg_dump` reads PostgreSQL inside one transaction. The secret travels with it
because login links already emailed, and NiceGUI's signed storage, only work with the secret that
signed them. Restoring never merges into a database that holds tables: that would mix two practices'
records or half-overwrite one, so the operator is told to point at a new, empty database instead.
"""

import asyncio
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg

from portal.config import Settings

FORMAT = 1
MANIFEST = 'manifest.json'
SECRET = 'secret_key'
SQLITE_MEMBER = 'database.sqlite3'
POSTGRES_MEMBER = 'database.pgdump'
MIGRATIONS_TABLE = 'tortoise_migrations'


class BackupError(Exception):
    """A sentence for the operator: what went wrong and what to do; nothing was changed."""


@dataclass
class Outcome:
    path: Path
    notes: list[str] = field(default_factory=list)


def default_name(now: datetime | None = None) -> str:
    return f'portal-backup-{(now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")}.tar.gz'


def kind(database_url: str) -> str:
    if database_url.startswith('sqlite://'):
        return 'sqlite'
    if database_url.startswith(('postgres://', 'postgresql://', 'asyncpg://', 'psycopg://')):
        return 'postgres'
    raise BackupError(f'Backups support SQLite and PostgreSQL databases, not {database_url.split("://")[0]}://.')


def sqlite_path(database_url: str) -> Path:
    path = database_url.removeprefix('sqlite://').split('?')[0]
    if not path or path == ':memory:':
        raise BackupError('An in-memory SQLite database cannot be backed up or restored.')
    return Path(path)


@dataclass(frozen=True)
class _Postgres:
    """libpq's view of a Tortoise URL: the password goes through the environment, never the command line."""

    uri: str
    password: str | None
    display: str

    @classmethod
    def parse(cls, database_url: str) -> '_Postgres':
        parts = urlsplit(database_url)
        user = f'{parts.username}@' if parts.username else ''
        host = parts.hostname or 'localhost'
        host = f'[{host}]' if ':' in host else host
        port = f':{parts.port}' if parts.port else ''
        uri = f'postgresql://{user}{host}{port}{parts.path}'
        return cls(uri=uri, password=unquote(parts.password) if parts.password else None, display=uri)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith('PG')}
        if self.password:
            env['PGPASSWORD'] = self.password
        return env


def _run(tool: str, args: list[str], env: dict[str, str]) -> None:
    if shutil.which(tool) is None:
        raise BackupError(
            f'{tool} is not installed: install the PostgreSQL client tools (apt-get install postgresql-client), '
            'the same major version as the server or newer.'
        )
    done = subprocess.run([tool, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f'exit status {done.returncode}'
        raise BackupError(f'{tool} failed: {detail}')


# --- backup -------------------------------------------------------------------------------------------


def backup(settings: Settings, destination: Path | None = None) -> Outcome:
    """Write `destination` (a file, or a directory to put a dated file in) and return where it went."""
    database = kind(settings.database_url)
    target = destination or Path(default_name())
    if target.is_dir():
        target = target / default_name()
    if target.exists():
        raise BackupError(f'{target} already exists: choose another name; a backup never overwrites a file.')
    target.parent.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix='portal-backup-') as work:
        snapshot = Path(work) / (SQLITE_MEMBER if database == 'sqlite' else POSTGRES_MEMBER)
        if database == 'sqlite':
            _sqlite_snapshot(sqlite_path(settings.database_url), snapshot)
            migration = _sqlite_latest_migration(snapshot)
        else:
            pg = _Postgres.parse(settings.database_url)
            migration = asyncio.run(_postgres_latest_migration(settings.database_url))
            _run(
                'pg_dump', ['--format=custom', '--no-owner', '--no-privileges', f'--file={snapshot}', pg.uri], pg.env()
            )
        secret_file = settings.data_dir / SECRET
        secret = secret_file.read_text().strip() if secret_file.exists() else ''
        if secret != settings.secret_key:
            secret = ''
            notes.append(
                'The secret comes from PORTAL_SECRET_KEY, so it is not in this backup: keep it with your '
                'configuration; a restore needs the same value for emailed links to keep working.'
            )
        manifest = {
            'format': FORMAT,
            'created_at': datetime.now(UTC).isoformat(timespec='seconds'),
            'database': database,
            'latest_migration': migration,
            'secret_included': bool(secret),
        }
        _write_archive(target, manifest, snapshot, secret)
    return Outcome(target, notes)


def _sqlite_snapshot(source: Path, snapshot: Path) -> None:
    if not source.exists():
        raise BackupError(f'There is no database at {source}: nothing to back up (check PORTAL_DATABASE_URL).')
    src = sqlite3.connect(f'file:{source}?mode=ro', uri=True)
    dst = sqlite3.connect(snapshot)
    try:
        src.backup(dst)  # consistent even while the portal writes
    finally:
        dst.close()
        src.close()


def _sqlite_latest_migration(path: Path) -> str | None:
    connection = sqlite3.connect(path)
    try:
        row = connection.execute(f'SELECT name FROM {MIGRATIONS_TABLE} ORDER BY id DESC LIMIT 1').fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        connection.close()
    return row[0] if row else None


async def _connect(database_url: str) -> asyncpg.Connection:
    pg = _Postgres.parse(database_url)
    try:
        return await asyncpg.connect(pg.uri, password=pg.password)
    except (OSError, asyncpg.PostgresError) as error:
        raise BackupError(f'Cannot reach the database at {pg.display}: {error}') from error


async def _postgres_latest_migration(database_url: str) -> str | None:
    connection = await _connect(database_url)
    try:
        return await connection.fetchval(f'SELECT name FROM {MIGRATIONS_TABLE} ORDER BY id DESC LIMIT 1')
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await connection.close()


def _write_archive(target: Path, manifest: dict, snapshot: Path, secret: str) -> None:
    """Written beside the target and renamed, readable by its owner only: it holds patient records."""
    partial = target.with_name(f'.{target.name}.partial')
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, 'wb') as raw, tarfile.open(fileobj=raw, mode='w:gz') as archive:
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
            archive.add(snapshot, arcname=snapshot.name)
            if secret:
                _add_bytes(archive, SECRET, secret.encode())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    archive.addfile(info, io.BytesIO(data))


# --- restore ------------------------------------------------------------------------------------------


def restore(settings: Settings, source: Path) -> Outcome:
    """Bring a backup back into an installation whose database holds no tables."""
    database = kind(settings.database_url)
    with tempfile.TemporaryDirectory(prefix='portal-restore-') as work:
        manifest = _extract(source, Path(work))
        if manifest['database'] != database:
            raise BackupError(
                f'This backup holds a {_label(manifest["database"])} database, but PORTAL_DATABASE_URL points at '
                f'{_label(database)}: restore it into the same kind of database.'
            )
        if database == 'sqlite':
            target = sqlite_path(settings.database_url)
            _refuse_unless_empty(_sqlite_tables(target), str(target))
            _sqlite_restore(Path(work) / SQLITE_MEMBER, target)
        else:
            pg = _Postgres.parse(settings.database_url)
            _refuse_unless_empty(asyncio.run(_postgres_tables(settings.database_url)), pg.display)
            args = ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', f'--dbname={pg.uri}']
            _run('pg_restore', [*args, str(Path(work) / POSTGRES_MEMBER)], pg.env())
        notes = _restore_secret(settings, Path(work) / SECRET if manifest.get('secret_included') else None)
    when = manifest.get('created_at', 'an unknown time')
    notes.insert(0, f'Backup taken {when}; latest migration in it: {manifest.get("latest_migration") or "none"}.')
    notes.append('Start the portal now: it applies any migrations newer than the backup.')
    return Outcome(source, notes)


def _label(database: str) -> str:
    return {'sqlite': 'SQLite', 'postgres': 'PostgreSQL'}.get(database, database)


def _extract(source: Path, work: Path) -> dict:
    if not source.is_file():
        raise BackupError(f'There is no backup file at {source}.')
    try:
        with tarfile.open(source, mode='r:gz') as archive:
            names = set(archive.getnames())
            wanted = [n for n in (MANIFEST, SECRET, SQLITE_MEMBER, POSTGRES_MEMBER) if n in names]
            if MANIFEST not in names:
                raise BackupError(f'{source} is not a portal backup (it has no {MANIFEST}).')
            archive.extractall(work, members=[archive.getmember(n) for n in wanted], filter='data')
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(f'{source} cannot be read as a portal backup: {error}') from error
    manifest = json.loads((work / MANIFEST).read_text())
    if manifest.get('format') != FORMAT:
        raise BackupError(
            f'{source} was written in backup format {manifest.get("format")}; this version reads {FORMAT}.'
        )
    member = SQLITE_MEMBER if manifest.get('database') == 'sqlite' else POSTGRES_MEMBER
    if not (work / member).exists():
        raise BackupError(f'{source} is incomplete: its database snapshot is missing.')
    return manifest


def _refuse_unless_empty(tables: list[str], where: str) -> None:
    if tables:
        raise BackupError(
            f'The database at {where} already holds {len(tables)} tables: a backup is restored only into an empty '
            'installation, so nothing was changed. Stop the portal, point PORTAL_DATABASE_URL at a new, empty '
            'database (createdb for PostgreSQL; a new file name for SQLite) and run restore again.'
        )


def _sqlite_tables(path: Path) -> list[str]:
    if not path.exists():
        return []
    connection = sqlite3.connect(f'file:{path}?mode=ro', uri=True)
    try:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        return [name for (name,) in rows]
    finally:
        connection.close()


async def _postgres_tables(database_url: str) -> list[str]:
    connection = await _connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT schemaname || '.' || tablename AS name FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        return [row['name'] for row in rows]
    finally:
        await connection.close()


def _sqlite_restore(snapshot: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f'file:{snapshot}?mode=ro', uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _restore_secret(settings: Settings, secret_file: Path | None) -> list[str]:
    if secret_file is None:
        return [
            'This backup holds no secret (it came from PORTAL_SECRET_KEY when the backup was taken): set the same '
            'PORTAL_SECRET_KEY here, or links emailed before the backup will not work and everyone signs in again.'
        ]
    secret = secret_file.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    target = settings.data_dir / SECRET
    from_environment = not target.exists() or target.read_text().strip() != settings.secret_key
    partial = target.with_name(f'.{SECRET}.{os.getpid()}')
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as file:
        file.write(secret)
    os.replace(partial, target)
    if from_environment and settings.secret_key != secret:
        return [
            f'The secret was restored to {target}, but PORTAL_SECRET_KEY is set and wins over it: unset it (or set '
            'it to the restored value), or links emailed before the backup will not work and everyone signs in again.'
        ]
    return [f'The secret was restored to {target}.']
