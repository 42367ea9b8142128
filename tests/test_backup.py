"""Backups, run the way an operator runs them: `python main.py backup`, then `restore` into a new installation."""

import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

from tortoise.context import TortoiseContext

from models.portal_account import PortalAccount
from portal.config import Settings
from portal.db import apply_migrations, tortoise_config
from services import audit, events, magic_link, outbox, sessions, throttle
from tests import factories
from tests.databases import fresh_database_url

ROOT = Path(__file__).resolve().parent.parent
CLIENT = '203.0.113.7'


def portal_command(data_dir: Path, database_url: str, *args: str) -> subprocess.CompletedProcess:
    """`python main.py ...` with only this installation's settings (its secret comes from its data dir)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PORTAL_', 'NICEGUI_'))}
    env.update(PORTAL_DATA_DIR=str(data_dir), PORTAL_DATABASE_URL=database_url)
    return subprocess.run(
        [sys.executable, 'main.py', *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def use_installation(data_dir: Path) -> Settings:
    """Wire the services the way the app would for the installation in `data_dir`."""
    settings = Settings(data_dir=data_dir, secret_key='')
    magic_link.configure(magic_link.LinkSettings(secret=settings.secret_key, base_url='http://portal.test'))
    outbox.configure(outbox.SmtpTransport(host='127.0.0.1', port=9, mail_from='portal@test'))  # never sent here
    sessions.configure(idle_minutes=30, absolute_hours=12)
    throttle.configure(None)
    events.configure(None)
    return settings


async def _emailed_link(url: str, email: str) -> str:
    """A patient with an active portal, and a login link emailed to them (not clicked yet)."""
    await apply_migrations(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        patient = await factories.make_active_patient(first_name='Noor', email=email)
        account = await PortalAccount.get(patient_id=patient.id)
        issued = await magic_link.issue_link(account, audit.Actor.patient(account.id, CLIENT), purpose='login_link')
        return issued.url.rsplit('/', 1)[1]


async def test_a_backup_restored_into_a_new_installation_lets_the_patient_sign_in_with_their_emailed_link(
    tmp_path: Path, monkeypatch
):
    for name in [n for n in os.environ if n.startswith('PORTAL_')]:
        monkeypatch.delenv(name)
    old_dir, new_dir, archive = tmp_path / 'old', tmp_path / 'new', tmp_path / 'nightly.tar.gz'
    async with fresh_database_url(str(old_dir)) as old_url:
        use_installation(old_dir)
        token = await _emailed_link(old_url, 'noor@example.com')

        made = portal_command(old_dir, old_url, 'backup', str(archive))
        assert made.returncode == 0, made.stderr
        assert f'Backup written to {archive}' in made.stdout
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # patient records and the secret
        with tarfile.open(archive) as contents:
            assert 'secret_key' in contents.getnames()

    async with fresh_database_url(str(new_dir)) as new_url:
        restored = portal_command(new_dir, new_url, 'restore', str(archive))
        assert restored.returncode == 0, restored.stderr
        assert 'Restored' in restored.stdout
        assert (new_dir / 'secret_key').read_text() == (old_dir / 'secret_key').read_text()

        use_installation(new_dir)
        await apply_migrations(new_url)
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(new_url))
            account, session_token = await magic_link.sign_in_with_link(token, CLIENT)
            assert (await sessions.resolve_patient_session(session_token)).id == account.id
            assert account.login_email == 'noor@example.com'

        again = portal_command(new_dir, new_url, 'restore', str(archive))
        assert again.returncode != 0
        assert 'a backup is restored only into an empty installation, so nothing was changed' in again.stderr
        assert 'Traceback' not in again.stderr


async def test_backup_and_restore_say_what_is_wrong_without_a_traceback(tmp_path: Path, monkeypatch):
    for name in [n for n in os.environ if n.startswith('PORTAL_')]:
        monkeypatch.delenv(name)
    async with fresh_database_url(str(tmp_path)) as url:
        missing = portal_command(tmp_path / 'data', url, 'restore', str(tmp_path / 'nope.tar.gz'))
        assert missing.returncode != 0
        assert f'There is no backup file at {tmp_path / "nope.tar.gz"}.' in missing.stderr

        (tmp_path / 'junk.tar.gz').write_bytes(b'not a backup')
        junk = portal_command(tmp_path / 'data', url, 'restore', str(tmp_path / 'junk.tar.gz'))
        assert junk.returncode != 0
        assert 'cannot be read as a portal backup' in junk.stderr

        await apply_migrations(url)
        (tmp_path / 'taken.tar.gz').write_bytes(b'')
        exists = portal_command(tmp_path / 'data', url, 'backup', str(tmp_path / 'taken.tar.gz'))
        assert exists.returncode != 0
        assert 'already exists: choose another name; a backup never overwrites a file.' in exists.stderr
        for result in (missing, junk, exists):
            assert 'Traceback' not in result.stderr
