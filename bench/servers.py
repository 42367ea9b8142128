"""The two servers the page benchmarks compare: the real portal (`python main.py`) and the bare NiceGUI page.

Both run as child processes on loopback ports, so a benchmark can read their memory from /proc and load
them in a real browser. The portal gets its own data dir, SQLite database and a signed-in patient.
"""

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tortoise.context import TortoiseContext

from portal import keys
from portal.db import apply_migrations, tortoise_config
from portal.devmail import _free_port
from services import audit, magic_link
from tests import factories
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, running_process

ROOT = Path(__file__).resolve().parent.parent
BROWSER_ARGS = CHROMIUM_ARGS
BROWSER_PATH = CHROMIUM
PATIENT_EMAIL = 'avery.lindqvist@example.com'


@dataclass(frozen=True)
class Server:
    base_url: str
    process: subprocess.Popen

    def rss_kib(self) -> int:
        """Resident memory of the server process, from /proc (no psutil needed)."""
        for line in Path(f'/proc/{self.process.pid}/status').read_text().splitlines():
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
        raise RuntimeError('no VmRSS line')


@dataclass(frozen=True)
class Portal(Server):
    login_link: str  # a fresh magic link for the seeded patient: opening it and pressing Continue signs in


@contextmanager
def child_server(args: list[str], env: dict[str, str], port: int, log_path: Path) -> Iterator[Server]:
    """`env` is added to ours, less pytest's, NiceGUI's and the portal's own variables."""
    base_url = f'http://127.0.0.1:{port}'
    with running_process(args, env, base_url + '/login', log_path) as process:
        yield Server(base_url, process)


@contextmanager
def bare_server(folder: Path, *, tailwind: bool = True) -> Iterator[Server]:
    port = _free_port()
    args = [sys.executable, str(ROOT / 'bench' / 'bare_pages.py')]
    env = {'BARE_PORT': str(port), 'BARE_TAILWIND': '1' if tailwind else '0'}
    with child_server(args, env, port, folder / f'bare-{port}.log') as server:
        yield server


async def _seed(url: str, base_url: str, secret: str) -> str:
    """A practice and one active patient with a prescription, appointment and invoice; returns a login link."""
    await apply_migrations(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        practice = await factories.make_practice(name='Harborview Eye Care')
        provider = await factories.make_provider(practice, name='Morgan Ellery')
        staff = await factories.make_staff()
        patient = await factories.make_active_patient(
            staff, first_name='Avery', last_name='Lindqvist', email=PATIENT_EMAIL
        )
        await factories.make_spectacle_rx(patient, provider)
        await factories.make_contact_lens_rx(patient, provider)
        await factories.make_appointment(patient, in_days=10)
        await factories.make_invoice(patient, [('Comprehensive eye exam', 18500)], paid_cents=5000)
        # Signed as the server will check it: with the link key derived from the secret, not the secret.
        magic_link.configure(magic_link.LinkSettings(secret=keys.link_key(secret), base_url=base_url))
        account = await patient.portal_account
        issued = await magic_link.issue_link(account, audit.Actor('staff', staff.id, staff.name), purpose='login_link')
        return issued.url


@asynccontextmanager
async def portal_server(folder: Path) -> AsyncIterator[Portal]:
    """The real app, as operators start it, on a seeded SQLite database with the built-in dev mailbox."""
    port, secret = _free_port(), 'bench-' + 'k' * 48
    base_url = f'http://127.0.0.1:{port}'
    url = f'sqlite://{folder}/portal.sqlite3'
    link = await _seed(url, base_url, secret)
    env = {
        'PORTAL_DATA_DIR': str(folder / 'data'),
        'PORTAL_DATABASE_URL': url,
        'PORTAL_SECRET_KEY': secret,
        'PORTAL_PORT': str(port),
        'PORTAL_BASE_URL': base_url,
    }
    with child_server([sys.executable, 'main.py'], env, port, folder / 'portal.log') as server:
        yield Portal(server.base_url, server.process, link)
