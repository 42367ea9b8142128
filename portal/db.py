"""Database wiring: the Tortoise config and the migrations that build the schema.

The schema comes from Tortoise's own migrations (`models/migrations`), applied at start-up and by
`python main.py migrate`; `tortoise makemigrations` writes new ones (config: `portal.db.TORTOISE_ORM`).
"""

from pathlib import Path
from typing import Any

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


async def apply_migrations(database_url: str) -> None:
    """Bring the database to the latest migration; a no-op when it already is."""
    config = tortoise_config(database_url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config, init_connections=False)
        await migrate(config=config)


def _cli_config() -> dict[str, Any]:
    from portal.config import Settings

    return tortoise_config(Settings().database_url)


def __getattr__(name: str) -> Any:
    """`TORTOISE_ORM` for the `tortoise` command line, computed from the environment on demand."""
    if name == 'TORTOISE_ORM':
        return _cli_config()
    raise AttributeError(name)
