"""The command line, run the way an operator runs it: `python main.py ...` in a fresh data directory."""

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tortoise.context import TortoiseContext

from models.staff import StaffUser
from portal.cli import _parser, print_demo_banner
from portal.config import Settings
from portal.db import tortoise_config
from services import staff_auth
from services.demo_practice import DEMO_ADMIN_EMAIL, DEMO_PASSWORD, DEMO_PATIENT_EMAIL, DemoSeed
from tests.databases import fresh_database_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database_url(str(tmp_path)) as url:
        yield url


def run(tmp_path: Path, database_url: str, *args: str, stdin: str = '', **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(('PORTAL_', 'NICEGUI_'))}
    clean.update(PORTAL_DATA_DIR=str(tmp_path / 'data'), PORTAL_DATABASE_URL=database_url, **env)
    return subprocess.run(
        [sys.executable, 'main.py', *args],
        cwd=ROOT,
        env=clean,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def staff_in(database_url: str) -> list[StaffUser]:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(database_url))
        return await StaffUser.all()


def create_staff(tmp_path: Path, database_url: str, email: str, password: str, *extra: str):
    args = ('create-staff', '--email', email, '--name', 'Ann Boss', '--password-stdin', *extra)
    return run(tmp_path, database_url, *args, stdin=password + '\n')


async def test_create_staff_makes_an_admin_with_an_argon2_password(tmp_path, database_url):
    result = create_staff(tmp_path, database_url, 'Ann.Boss@Example.com', 'a long enough password')
    assert result.returncode == 0, result.stderr
    assert 'Created admin account for Ann Boss <ann.boss@example.com>' in result.stdout
    [staff] = await staff_in(database_url)
    assert (staff.email, staff.role) == ('ann.boss@example.com', 'admin')
    assert staff.password_hash.startswith('$argon2id$')
    assert staff_auth._hasher.verify(staff.password_hash, 'a long enough password')


async def test_create_staff_with_role_staff(tmp_path, database_url):
    result = create_staff(tmp_path, database_url, 'desk@example.com', 'a long enough password', '--role', 'staff')
    assert result.returncode == 0, result.stderr
    [staff] = await staff_in(database_url)
    assert staff.role == 'staff'


async def test_create_staff_refuses_a_short_password_and_says_why(tmp_path, database_url):
    result = create_staff(tmp_path, database_url, 'ann@example.com', 'fourteen chars')
    assert result.returncode != 0
    assert 'Choose a password of at least 15 characters.' in result.stderr
    assert 'No account was created.' in result.stderr
    assert 'Traceback' not in result.stderr
    assert await staff_in(database_url) == []


async def test_create_staff_refuses_an_invalid_email_and_a_duplicate(tmp_path, database_url):
    bad = create_staff(tmp_path, database_url, 'ann at example', 'a long enough password')
    assert bad.returncode != 0
    assert 'is not a valid email address' in bad.stderr

    assert create_staff(tmp_path, database_url, 'ann@example.com', 'a long enough password').returncode == 0
    again = create_staff(tmp_path, database_url, 'ANN@example.com', 'another long password')
    assert again.returncode != 0
    assert 'A staff account for ann@example.com already exists.' in again.stderr
    assert len(await staff_in(database_url)) == 1


async def test_create_staff_refuses_an_unknown_role(tmp_path, database_url):
    result = create_staff(tmp_path, database_url, 'ann@example.com', 'a long enough password', '--role', 'owner')
    assert result.returncode != 0
    assert "invalid choice: 'owner'" in result.stderr


async def test_migrate_builds_the_schema_and_is_safe_to_repeat(tmp_path, database_url):
    for _ in range(2):
        result = run(tmp_path, database_url, 'migrate')
        assert result.returncode == 0, result.stderr
        assert 'is up to date' in result.stdout
    assert await staff_in(database_url) == []  # the tables exist


async def test_a_placeholder_secret_is_refused_in_one_sentence(tmp_path, database_url):
    result = run(tmp_path, database_url, 'migrate', PORTAL_SECRET_KEY='changethis')
    assert result.returncode != 0
    assert 'PORTAL_SECRET_KEY is a placeholder' in result.stderr
    assert 'Traceback' not in result.stderr


def test_help_lists_the_commands(tmp_path):
    result = run(tmp_path, 'sqlite://:memory:', '--help')
    assert result.returncode == 0
    for command in ('serve', 'migrate', 'create-staff', '--demo'):
        assert command in result.stdout


def test_demo_flag_works_before_and_after_serve():
    parser = _parser()
    assert parser.parse_args(['--demo']).demo
    assert parser.parse_args(['serve', '--demo']).demo
    assert parser.parse_args(['--demo', 'serve']).demo
    assert not parser.parse_args([]).demo
    assert not parser.parse_args(['serve']).demo


def test_demo_mode_also_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv('PORTAL_DATA_DIR', str(tmp_path))
    monkeypatch.setenv('PORTAL_DEMO', 'true')
    assert Settings().demo


def test_without_a_base_url_links_follow_the_port(monkeypatch, tmp_path):
    monkeypatch.setenv('PORTAL_DATA_DIR', str(tmp_path))
    monkeypatch.delenv('PORTAL_BASE_URL', raising=False)
    monkeypatch.setenv('PORTAL_PORT', '8095')
    assert Settings().base_url == 'http://localhost:8095'
    monkeypatch.setenv('PORTAL_BASE_URL', 'https://portal.example.com/')
    assert Settings().base_url == 'https://portal.example.com'


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, base_url='http://localhost:8095', demo=True, **values)


def test_demo_banner_names_the_staff_login_the_urls_and_a_patient_to_try(tmp_path, capsys):
    print_demo_banner(_settings(tmp_path), DemoSeed(seeded=True, demo_logins=True))
    out = capsys.readouterr().out
    assert f'{DEMO_ADMIN_EMAIL} / {DEMO_PASSWORD}' in out
    assert f'try the patient portal with {DEMO_PATIENT_EMAIL}' in out
    for url in ('/staff/login', '/login', '/dev/mailbox'):
        assert f'http://localhost:8095{url}' in out


def test_demo_banner_promises_no_demo_logins_on_a_database_that_had_a_practice(tmp_path, capsys):
    print_demo_banner(_settings(tmp_path), DemoSeed(seeded=False, demo_logins=False))
    out = capsys.readouterr().out
    assert 'no demo data was added' in out
    assert DEMO_PASSWORD not in out and DEMO_PATIENT_EMAIL not in out
