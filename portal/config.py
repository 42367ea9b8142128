"""One settings object, read once from the environment (and an optional `.env`).

The variable names are a contract with operators and tests (see the design's configuration table).
"""

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {'changethis', 'changeme', 'secret', 'please-change-me'}
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix='PORTAL_', env_file='.env', extra='ignore')

    host: str = '127.0.0.1'
    port: int = 8080
    base_url: str = 'http://localhost:8080'
    database_url: str = ''
    data_dir: Path = Path('data')
    secret_key: str = ''

    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: Literal['none', 'starttls', 'tls'] = 'none'
    smtp_ca_file: Path | None = None
    mail_from: str = 'Patient Portal <portal@localhost>'

    sms_provider: Literal['twilio'] | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_api_url: str | None = None  # tests and staging only: Twilio's API lives at https://api.twilio.com

    redis_url: str | None = None
    demo: bool = False

    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    link_valid_minutes: int = Field(default=15, ge=1, le=60)
    dev_mailbox_port: int = 0

    @model_validator(mode='after')
    def _fill_derived(self) -> 'Settings':
        if 'base_url' not in self.model_fields_set and self.port != 8080:
            self.base_url = f'http://localhost:{self.port}'  # links in mail must reach a local run on another port
        self.base_url = self.base_url.rstrip('/')
        if not self.database_url:
            self.database_url = f'sqlite://{self.data_dir / "portal.sqlite3"}'
        if not self.secret_key:
            self.secret_key = _generated_secret(self.data_dir)
        if self.smtp_ca_file and not self.smtp_ca_file.is_file():
            raise ValueError(f'PORTAL_SMTP_CA_FILE names {self.smtp_ca_file}, which is not a readable file')
        if self.sms_provider == 'twilio':
            missing = [
                f'PORTAL_{name.upper()}'
                for name in ('twilio_account_sid', 'twilio_auth_token', 'twilio_from')
                if not (getattr(self, name) or '').strip()
            ]
            if missing:
                raise ValueError(f'PORTAL_SMS_PROVIDER=twilio needs {", ".join(missing)}')
        if not self.demo and _is_weak(self.secret_key):
            raise ValueError(
                f'PORTAL_SECRET_KEY is a placeholder or shorter than {MIN_SECRET_LENGTH} characters; '
                'set a long random value or unset it to generate one in the data directory'
            )
        return self

    @property
    def https(self) -> bool:
        """Served over https (by the base URL): HSTS and a `Secure` session cookie."""
        return self.base_url.lower().startswith('https://')

    @property
    def smtp_port_or_default(self) -> int:
        """The port the chosen security usually runs on, unless PORTAL_SMTP_PORT says otherwise."""
        return self.smtp_port or {'tls': 465, 'starttls': 587}.get(self.smtp_security, 25)

    @property
    def dev_mailbox(self) -> bool:
        """Without a real SMTP host, mail is caught by the built-in dev mailbox."""
        return not self.smtp_host


def _is_weak(secret: str) -> bool:
    return secret.strip().lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH


def _generated_secret(data_dir: Path) -> str:
    """A secret generated once and kept in the data dir, so links and sessions survive restarts.

    The file is created readable by its owner only (never briefly world-readable), and an empty file
    left by an interrupted first start is replaced rather than yielding an empty signing key.
    """
    path = data_dir / 'secret_key'
    if path.exists() and (secret := path.read_text().strip()):
        return secret
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    partial = path.with_name(f'.secret_key.{os.getpid()}')
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as file:
        file.write(secret)
    os.replace(partial, path)
    return secret


_settings: Settings | None = None


def get_settings() -> Settings:
    """The settings of the running app; read from the environment on first use."""
    global _settings
    if _settings is None:
        _settings = Settings()
    return _settings


def use_settings(settings: Settings) -> Settings:
    """Replace the running settings: the app factory calls it, so each test run reads its own env."""
    global _settings
    _settings = settings
    return settings
