"""Load: simulated patients doing the whole journey, at rising concurrency, beside a bare NiceGUI page.

Budget (issue 11): p95 page time under 1 s with 50 patients active at once on one instance. Each simulated
patient is a phone without a browser: an HTTP client with its own cookies and client address, speaking
NiceGUI's websocket protocol. The journey: open /login, post the email address (a plain form with its CSRF
token), read the link from the SMTP server, open it, post Continue, then open Prescriptions, Appointments and
Billing. An entry page (server-rendered HTML) counts as loaded when its HTML has arrived; a tab when its
websocket is connected and the patient's data has arrived (in the page or in a websocket update), not at
its HTTP response. The bare page (`bench/bare_pages.py` /prescriptions,
same widgets) is loaded the same way by as many clients at once, in the same run.

    python -m bench.load [--levels 1,10,25,50] [--database-url postgres://...] [--smoke]

With PostgreSQL reachable (`--database-url`, default the bench server) and nginx installed, the same levels
run on one instance and then on two behind nginx as deploy/ sets them up (Redis shared; nginx believes the
generator's X-Forwarded-For as from a proxy in front, so each simulated patient keeps its own address);
otherwise on one instance with SQLite. `--smoke` runs two patients on one instance, no budget;
tests/test_deploy.py runs the same journey through the proxy.
The load generator shares the machine's cores with the app: its own CPU time is printed beside the results,
and so is the share of its cores the app actually got (far below 100% means the machine, not the app, was
the limit). Page failures are mostly NiceGUI's 3 s limit on building a page ('Response ... not ready').
"""

import argparse
import ast
import asyncio
import functools
import json
import os
import re
import resource
import ssl
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import socketio
from tortoise.context import TortoiseContext

from bench.common import add_database_args, bench_database, header, percentile, postgres_reachable, verdict
from bench.servers import Server, bare_server, child_server
from models.practice import Practice, Provider
from models.staff import StaffUser
from portal.db import apply_migrations, tortoise_config
from portal.devmail import _free_port
from tests import factories
from tests.deployment import NGINX, deployment
from tests.mail import SmtpServer, link_in

BUDGET_P95_S, BUDGET_PATIENTS = 1.0, 50
# Each tab with a piece of the patient's own data that only arrives with it (not the navigation's words).
TABS = (('/prescriptions', 'Morgan Ellery'), ('/appointments', 'Contact lens fitting'), ('/billing', '$135.00'))
ELEMENTS = re.compile(r'parseElements\(String\.raw`(.*?)`\)', re.S)
QUERY = re.compile(r'query: (\{.*?\}),\n')
CSRF = re.compile(r'name="csrf_token" value="(\w+)"')
# One TLS context for every simulated phone: httpx loads the system's CA bundle for each client otherwise,
# about 40 ms of the generator's CPU per phone, taken from the two cores the app under load shares.
TLS = ssl.create_default_context()


class JourneyFailed(Exception):
    pass


@dataclass
class Plain:
    csrf_token: str
    seconds: float


@dataclass
class Loaded:
    elements: dict
    seconds: float
    sio: socketio.AsyncClient
    query: dict
    updates: list[str] = field(default_factory=list)


class Phone:
    """One simulated patient: cookies, a client address of its own (the throttle counts per address, and
    uvicorn trusts X-Forwarded-For from loopback, as it does from a proxy), and NiceGUI's protocol."""

    def __init__(self, base_url: str, address: str) -> None:
        self.base_url = base_url
        self.headers = {'X-Forwarded-For': address}
        self.http = httpx.AsyncClient(
            base_url=base_url, headers=self.headers, follow_redirects=True, timeout=30, verify=TLS
        )
        self.sockets: list[socketio.AsyncClient] = []

    async def close(self) -> None:
        for sio in self.sockets:
            if sio.connected:
                await sio.disconnect()
        await self.http.aclose()

    async def open(self, path: str, marker: str) -> Loaded:
        """GET the page, connect its websocket, wait until `marker` is in the page or an update."""
        started = time.perf_counter()
        response = await self.http.get(path)
        response.raise_for_status()
        html = response.text
        found_elements, found_query = ELEMENTS.search(html), QUERY.search(html)
        if not found_elements or not found_query:
            raise JourneyFailed(f'{path}: not a NiceGUI page ({response.status_code}, {response.url})')
        raw = found_elements.group(1)
        for escaped, plain in (('&#36;', '$'), ('&#96;', '`'), ('&gt;', '>'), ('&lt;', '<'), ('&amp;', '&')):
            raw = raw.replace(escaped, plain)
        query = ast.literal_eval(found_query.group(1))  # Jinja renders the dict as Python writes it
        query.update(document_id=str(uuid.uuid4()), tab_id=str(uuid.uuid4()), old_tab_id='')
        query = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in query.items()}
        sio = socketio.AsyncClient(reconnection=False)
        self.sockets.append(sio)
        page = Loaded(json.loads(raw), 0.0, sio, query)
        arrived = asyncio.Event()

        @sio.on('update')
        async def _update(data: dict) -> None:
            page.updates.append(json.dumps(data))
            if marker in page.updates[-1]:
                arrived.set()

        cookie = '; '.join(f'{name}={value}' for name, value in self.http.cookies.items())
        await sio.connect(
            self.base_url.replace('http', 'ws', 1) + '/?' + urlencode(query),
            socketio_path='/_nicegui_ws/socket.io',
            transports=['websocket'],
            headers={**self.headers, 'Cookie': cookie},
            wait_timeout=30,
        )
        if marker not in raw:
            await asyncio.wait_for(arrived.wait(), 30)
        page.seconds = time.perf_counter() - started
        return page

    async def plain(self, path: str, marker: str) -> Plain:
        """GET a server-rendered entry page (no websocket): loaded when its HTML has arrived."""
        started = time.perf_counter()
        response = await self.http.get(path)
        response.raise_for_status()
        token = CSRF.search(response.text)
        if marker not in response.text or token is None:
            raise JourneyFailed(f'{path}: no {marker!r} form ({response.status_code}, {response.url})')
        return Plain(token.group(1), time.perf_counter() - started)

    async def post(self, path: str, page: Plain, **fields: str) -> httpx.Response:
        """Submit the page's form as a browser does (its CSRF token included); the redirect is returned."""
        return await self.http.post(path, data={'csrf_token': page.csrf_token, **fields}, follow_redirects=False)

    @staticmethod
    async def leave(page: Loaded) -> None:
        await page.sio.disconnect()


@dataclass
class Results:
    page_seconds: list[float] = field(default_factory=list)
    journeys: int = 0
    failures: list[str] = field(default_factory=list)


async def journey(base_url: str, email: str, address: str, smtp: SmtpServer, results: Results) -> None:
    phone = Phone(base_url, address)
    try:
        login = await phone.plain('/login', 'Email me a login link')
        results.page_seconds.append(login.seconds)
        sent = await phone.post('/login', login, email=email)
        if sent.status_code != 303 or sent.headers['location'] != '/login/sent':
            raise JourneyFailed(f'after asking for a link: {sent.status_code} {sent.headers.get("location")}')
        message = await smtp.wait_for(email, timeout=30)
        link = urlsplit(link_in(message)).path
        page = await phone.plain(link, 'Continue')
        results.page_seconds.append(page.seconds)
        signed_in = await phone.post(link, page)
        if signed_in.status_code != 303 or signed_in.headers['location'] != '/':
            raise JourneyFailed(f'after Continue: {signed_in.status_code} {signed_in.headers.get("location")}')
        for path, marker in TABS:
            tab = await phone.open(path, marker)
            results.page_seconds.append(tab.seconds)
            await phone.leave(tab)
        results.journeys += 1
    except (JourneyFailed, httpx.HTTPError, socketio.exceptions.SocketIOError, TimeoutError, AssertionError) as error:
        results.failures.append(f'{type(error).__name__}: {error}')
    finally:
        await phone.close()


async def bare_views(base_url: str, address: str, views: int, results: Results) -> None:
    phone = Phone(base_url, address)
    try:
        for _ in range(views):
            page = await phone.open('/prescriptions', 'Your prescriptions')
            results.page_seconds.append(page.seconds)
            await phone.leave(page)
        results.journeys += 1
    except (JourneyFailed, httpx.HTTPError, socketio.exceptions.SocketIOError, TimeoutError) as error:
        results.failures.append(f'{type(error).__name__}: {error}')
    finally:
        await phone.close()


async def seed(url: str, emails: list[str]) -> None:
    """A practice and one active patient per address, each with the records the tabs show."""
    await apply_migrations(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        practice = await factories.make_practice(name='Harborview Eye Care')
        provider = await factories.make_provider(practice, name='Morgan Ellery')
        staff = await factories.make_staff()
        await seed_patients(practice, provider, staff, emails)


async def seed_patients(practice: Practice, provider: Provider, staff: StaffUser, emails: list[str]) -> None:
    for number, email in enumerate(emails):
        patient = await factories.make_active_patient(staff, practice=practice, first_name=f'Pat{number}', email=email)
        await factories.make_spectacle_rx(patient, provider)
        await factories.make_appointment(patient, in_days=10, reason='Contact lens fitting')
        await factories.make_invoice(patient, [('Comprehensive eye exam', 18500)], paid_cents=5000)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
    return total


@dataclass
class Level:
    results: Results
    wall: float
    app_cpu: float
    generator_cpu: float

    @property
    def p95(self) -> float:
        return percentile(self.results.page_seconds, 95) if self.results.page_seconds else float('inf')

    @property
    def per_second(self) -> float:
        return self.results.journeys / self.wall


async def measured(pids: list[int], clients: list) -> Level:
    results = Results()
    app_before, generator_before, started = child_cpu_seconds(pids), cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(client(results) for client in clients))
    wall = time.perf_counter() - started
    return Level(results, wall, child_cpu_seconds(pids) - app_before, cpu_seconds() - generator_before)


def report(label: str, level: Level, cores: int) -> None:
    times = level.results.page_seconds
    p50 = statistics.median(times) * 1000 if times else float('nan')
    print(
        f'{label:<34} pages {len(times):>4}  p50 {p50:6.0f} ms  p95 {level.p95 * 1000:6.0f} ms  '
        f'journeys/s {level.per_second:5.2f} ({level.per_second / cores:4.2f} per app core)  '
        f'app CPU {level.app_cpu:5.1f} s ({level.app_cpu / level.wall / cores:4.0%} of its cores)  '
        f'generator CPU {level.generator_cpu:5.1f} s  '
        f'failures {len(level.results.failures)}'
    )
    for failure in level.results.failures[:3]:
        print(f'    {failure}')


async def run_levels(
    label: str, base_url: str, pids: list[int], emails: dict[int, list[str]], smtp: SmtpServer, bare: Server | None
) -> dict[int, Level]:
    """Each level: that many patients at once, each doing the whole journey once (fresh patients per level,
    so the one-link-a-minute limit never gets in the way); then the bare page at the same concurrency."""
    levels = {}
    for count, batch in emails.items():
        print(f'\n## {label}: {count} patient(s) at once')
        clients = [
            functools.partial(journey, base_url, email, f'198.51.{count % 250}.{n + 1}', smtp)
            for n, email in enumerate(batch)
        ]
        levels[count] = await measured(pids, clients)
        report(f'portal journey ({len(pids)} instance(s))', levels[count], len(pids))
        if bare is not None:
            views = len(TABS) + 2  # as many pages as a journey opens
            clients = [functools.partial(bare_views, bare.base_url, f'198.51.0.{n + 1}', views) for n in range(count)]
            report('bare /prescriptions (baseline)', await measured([bare.process.pid], clients), 1)
    return levels


def budget(levels: dict[int, Level]) -> bool:
    if BUDGET_PATIENTS not in levels:
        return True
    level = levels[BUDGET_PATIENTS]
    ok = level.p95 < BUDGET_P95_S and not level.results.failures
    print(
        verdict(
            ok,
            f'{BUDGET_PATIENTS} patients at once on one instance: page p95 {level.p95 * 1000:.0f} ms '
            f'({len(level.results.failures)} failed journeys) vs budget < 1 s',
        )
    )
    return ok


@asynccontextmanager
async def portal_instance(folder: Path, url: str, smtp: SmtpServer) -> AsyncIterator[tuple[str, int]]:
    """The real app, as operators start it, on its own port, sending mail to `smtp`."""
    port = _free_port()
    env = {
        'PORTAL_DATA_DIR': str(folder / 'data'),
        'PORTAL_DATABASE_URL': url,
        'PORTAL_SECRET_KEY': 'bench-' + 'k' * 48,
        'PORTAL_PORT': str(port),
        'PORTAL_BASE_URL': f'http://127.0.0.1:{port}',
        'PORTAL_SMTP_HOST': '127.0.0.1',
        'PORTAL_SMTP_PORT': str(smtp.port),
    }
    with child_server([sys.executable, 'main.py'], env, port, folder / 'portal.log') as server:
        yield server.base_url, server.process.pid


async def run(counts: list[int], smoke: bool, pg_url: str) -> bool:
    header('Load: simulated patients doing the whole journey, one instance then two behind nginx')
    postgres = bool(pg_url) and not smoke and await postgres_reachable(pg_url)
    smtp = SmtpServer()
    smtp.start()
    try:
        with tempfile.TemporaryDirectory(prefix='portal-load-') as work:
            folder = Path(work)
            run_id = uuid.uuid4().hex[:6]  # Redis outlives a run: addresses fresh each time
            one = {n: [f'one{n}.{i}.{run_id}@example.com' for i in range(n)] for n in counts}
            two = {n: [f'two{n}.{i}.{run_id}@example.com' for i in range(n)] for n in counts}
            kind = 'postgres' if postgres else 'sqlite'  # one kind per process: Tortoise keeps the first dialect
            async with bench_database(kind, pg_url, 'portal_bench_load') as url:
                await seed(url, [e for batch in (*one.values(), *two.values()) for e in batch])
                async with portal_instance(folder, url, smtp) as (base_url, pid):
                    with bare_server(folder) as bare:
                        single = await run_levels(f'one instance, {kind}', base_url, [pid], one, smtp, bare)
                ok = all(not level.results.failures for level in single.values())
                ok &= smoke or budget(single)
                if not postgres or not Path(NGINX).exists():
                    if not smoke:
                        print('\n(two instances behind nginx need PostgreSQL, Redis and nginx: not measured)')
                    return ok
                shared = {
                    'PORTAL_DATABASE_URL': url,
                    'PORTAL_REDIS_URL': 'redis://127.0.0.1:6379',
                    'PORTAL_SECRET_KEY': 'bench-' + 'k' * 48,
                    'PORTAL_SMTP_HOST': '127.0.0.1',
                    'PORTAL_SMTP_PORT': str(smtp.port),
                }
                (folder / 'two').mkdir()
                with deployment(folder / 'two', shared, trust_forwarded=True) as deployed:
                    label = 'two instances behind nginx, postgres'
                    double = await run_levels(label, deployed.url, deployed.pids, two, smtp, None)
            print('\n## one instance -> two behind nginx (journeys per second)')
            for count in counts:
                a, b = single[count], double[count]
                print(
                    f'{count:>3} patients: {a.per_second:5.2f} -> {b.per_second:5.2f} '
                    f'({b.per_second / a.per_second:.2f}x); generator CPU {a.generator_cpu:5.1f} s / '
                    f'{b.generator_cpu:5.1f} s in {a.wall:5.1f} s / {b.wall:5.1f} s of wall time'
                )
            print(
                f'(this machine has {os.cpu_count()} cores; the generator, nginx, PostgreSQL and both instances '
                'share them, so the ratio is bounded by the cores left over, not by the portal)'
            )
            return ok and all(not level.results.failures for level in double.values())
    finally:
        smtp.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog='python -m bench.load', description=__doc__.splitlines()[0])
    parser.add_argument('--levels', default='1,10,25,50', help='patients at once, comma-separated')
    parser.add_argument('--smoke', action='store_true', help='two patients on one instance: does the journey work?')
    add_database_args(parser)
    args = parser.parse_args()
    counts = [2] if args.smoke else [int(n) for n in args.levels.split(',')]
    ok = asyncio.run(run(counts, args.smoke, args.database_url))
    print(f'\nOVERALL: {"PASS" if ok else "MISS"}')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
