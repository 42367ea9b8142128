"""Settings: the environment contract, and refusing weak secrets outside the demo."""

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from portal.config import MIN_SECRET_LENGTH, Settings

STRONG = 'k' * MIN_SECRET_LENGTH


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test reads only what it sets: no developer `.env`, no PORTAL_* from the shell."""
    for name in ('SECRET_KEY', 'DEMO', 'DATA_DIR', 'DATABASE_URL', 'BASE_URL', 'PORT', 'REDIS_URL', 'SMTP_HOST'):
        monkeypatch.delenv(f'PORTAL_{name}', raising=False)
    monkeypatch.chdir(tmp_path)


def _settings(**env: str) -> Settings:
    return Settings(_env_file=None, **env)


@pytest.mark.parametrize('placeholder', ['changethis', 'CHANGEME', 'secret', 'please-change-me'])
def test_a_placeholder_secret_is_refused_outside_the_demo(tmp_path, placeholder):
    with pytest.raises(ValidationError, match='PORTAL_SECRET_KEY'):
        _settings(secret_key=placeholder, data_dir=str(tmp_path))


def test_a_short_secret_is_refused_outside_the_demo(tmp_path):
    with pytest.raises(ValidationError, match='PORTAL_SECRET_KEY'):
        _settings(secret_key='k' * (MIN_SECRET_LENGTH - 1), data_dir=str(tmp_path))


def test_the_secret_is_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv('PORTAL_SECRET_KEY', 'changethis')
    with pytest.raises(ValidationError, match='PORTAL_SECRET_KEY'):
        _settings(data_dir=str(tmp_path))
    monkeypatch.setenv('PORTAL_SECRET_KEY', STRONG)
    assert _settings(data_dir=str(tmp_path)).secret_key == STRONG


def test_the_demo_accepts_a_placeholder_secret(tmp_path):
    assert _settings(secret_key='changethis', demo='true', data_dir=str(tmp_path)).secret_key == 'changethis'


def test_a_long_random_secret_is_accepted(tmp_path):
    assert _settings(secret_key=STRONG, data_dir=str(tmp_path)).secret_key == STRONG


def test_without_a_secret_one_is_generated_into_the_data_dir_and_kept(tmp_path):
    data = tmp_path / 'data'
    first = _settings(data_dir=str(data))
    assert len(first.secret_key) >= MIN_SECRET_LENGTH
    stored = data / 'secret_key'
    assert stored.read_text() == first.secret_key
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert _settings(data_dir=str(data)).secret_key == first.secret_key  # survives a restart


def test_an_empty_secret_file_is_replaced_rather_than_used(tmp_path):
    (tmp_path / 'secret_key').write_text('\n')
    settings = _settings(data_dir=str(tmp_path))
    assert len(settings.secret_key) >= MIN_SECRET_LENGTH
    assert (tmp_path / 'secret_key').read_text() == settings.secret_key


def test_a_weak_secret_file_is_refused_outside_the_demo(tmp_path):
    (tmp_path / 'secret_key').write_text('changethis')
    with pytest.raises(ValidationError, match='PORTAL_SECRET_KEY'):
        _settings(data_dir=str(tmp_path))


def test_defaults_follow_the_configuration_contract(tmp_path):
    settings = _settings(secret_key=STRONG, data_dir=str(tmp_path))
    assert (settings.host, settings.port, settings.base_url) == ('127.0.0.1', 8080, 'http://localhost:8080')
    assert settings.database_url == f'sqlite://{tmp_path / "portal.sqlite3"}'
    assert settings.dev_mailbox and settings.redis_url is None and settings.demo is False


def test_environment_variables_use_the_portal_prefix(tmp_path, monkeypatch):
    monkeypatch.setenv('PORTAL_BASE_URL', 'https://portal.example.com/')
    monkeypatch.setenv('PORTAL_DATABASE_URL', 'postgres://portal@db.example.com/portal')
    monkeypatch.setenv('PORTAL_SMTP_HOST', 'smtp.example.com')
    monkeypatch.setenv('PORTAL_SMTP_SECURITY', 'starttls')
    monkeypatch.setenv('PORTAL_REDIS_URL', 'redis://cache.example.com:6379')
    settings = _settings(secret_key=STRONG, data_dir=str(tmp_path))
    assert settings.base_url == 'https://portal.example.com'
    assert settings.database_url == 'postgres://portal@db.example.com/portal'
    assert not settings.dev_mailbox and settings.smtp_security == 'starttls'
    assert settings.redis_url == 'redis://cache.example.com:6379'


def test_an_unknown_smtp_security_mode_is_refused(tmp_path):
    with pytest.raises(ValidationError):
        _settings(secret_key=STRONG, data_dir=str(tmp_path), smtp_security='ssl')
