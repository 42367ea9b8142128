"""Server cost per page: each signed-in tab against a bare NiceGUI page with the same widgets, side by side.

Budget (issue 11): a signed-in tab costs the server no more than the bare page: pages per second at the
same concurrency, portal / bare >= 1.0. A page here is what a browser makes the server do: the GET (the
portal checks the session, reads the records, writes the per-view audit row and builds the elements)
and the websocket that connects to it, then leaves (so the server forgets the client after NiceGUI's
reconnect timeout, as it would a closed tab; a GET alone would keep each client for a minute).

Both servers run as child processes (`bench.servers`: the real app on seeded SQLite, and
`bench/bare_pages.py`); `--concurrency` clients load one tab for `--seconds`, first on one server then on
the other (the order alternates per round), and the server's own CPU time per page is printed beside the
rate. The machine is shared, so the ratio is taken within each round and the median of the rounds judged.

    python -m bench.page_cost [--tabs /prescriptions,/appointments,/billing] [--rounds 3] [--concurrency 4]
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import socketio

from bench.common import header, verdict
from bench.load import JourneyFailed, Phone, child_cpu_seconds
from bench.servers import Server, bare_server, portal_server

# Each tab with words that are in its first HTML only when the page was built for the signed-in patient.
MARKERS = {'/prescriptions': 'Morgan Ellery', '/appointments': 'Upcoming appointments', '/billing': 'Invoice'}
BARE_MARKERS = {'/prescriptions': 'Your prescriptions', '/appointments': 'Upcoming appointments', '/billing': 'Invoice'}


@dataclass
class Run:
    pages: int
    wall: float
    cpu: float
    failures: list[str]

    @property
    def per_second(self) -> float:
        return self.pages / self.wall

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.pages * 1000 if self.pages else float('nan')


async def measure(server: Server, phones: list[Phone], path: str, marker: str, seconds: float) -> Run:
    """`phones` load `path` over and over for `seconds`; pages and the server's CPU time are counted."""
    pages, failures = 0, []
    deadline = time.perf_counter() + seconds

    async def client(phone: Phone) -> None:
        nonlocal pages
        while time.perf_counter() < deadline:
            try:
                page = await phone.open(path, marker)
                await phone.leave(page)
            except (JourneyFailed, httpx.HTTPError, socketio.exceptions.SocketIOError, TimeoutError) as error:
                failures.append(f'{type(error).__name__}: {error}')
                await asyncio.sleep(0.1)
                continue
            finally:
                phone.sockets.clear()
            pages += 1

    cpu_before, started = child_cpu_seconds([server.process.pid]), time.perf_counter()
    await asyncio.gather(*(client(phone) for phone in phones))
    wall, cpu = time.perf_counter() - started, child_cpu_seconds([server.process.pid]) - cpu_before
    return Run(pages, wall, cpu, failures)


async def signed_in_phones(base_url: str, link: str, count: int) -> list[Phone]:
    """`count` clients sharing the seeded patient's session (one sign-in, its cookie copied)."""
    first = Phone(base_url, '127.0.0.1')
    path = urlsplit(link).path
    page = await first.plain(path, 'Continue')
    answer = await first.post(path, page)
    if answer.status_code != 303:
        raise RuntimeError(f'sign-in failed: {answer.status_code}')
    phones = [first]
    for _ in range(count - 1):
        phone = Phone(base_url, '127.0.0.1')
        phone.http.cookies.update(first.http.cookies)
        phones.append(phone)
    return phones


def line(label: str, run: Run) -> str:
    failed = f'  failed {len(run.failures)} ({run.failures[0]})' if run.failures else ''
    rate = f'{run.per_second:7.1f} pages/s  server CPU {run.cpu_ms:6.2f} ms/page'
    return f'{label:<30} pages {run.pages:>5}  {rate}{failed}'


async def run(tabs: list[str], rounds: int, concurrency: int, seconds: float) -> bool:
    header('Server cost per page: signed-in tabs vs bare NiceGUI pages with the same widgets')
    print(f'({concurrency} clients at once, {seconds:g} s per measurement, {rounds} rounds, order alternating)')
    ok = True
    with tempfile.TemporaryDirectory(prefix='portal-bench-') as tmp:
        folder = Path(tmp)
        async with portal_server(folder) as portal:
            with bare_server(folder) as bare:
                portal_phones = await signed_in_phones(portal.base_url, portal.login_link, concurrency)
                bare_phones = [Phone(bare.base_url, '127.0.0.1') for _ in range(concurrency)]
                try:
                    for path in tabs:  # warm-up: imports, templates and caches of both servers
                        await measure(portal, portal_phones, path, MARKERS[path], 1)
                        await measure(bare, bare_phones, path, BARE_MARKERS[path], 1)
                    for path in tabs:
                        print(f'\n## {path}')
                        ratios, cpu_ratios = [], []
                        for number in range(rounds):
                            sides = [('portal', portal, portal_phones, MARKERS[path])]
                            sides.append(('bare (baseline)', bare, bare_phones, BARE_MARKERS[path]))
                            if number % 2:
                                sides.reverse()
                            results = {}
                            for label, server, phones, marker in sides:
                                results[label] = await measure(server, phones, path, marker, seconds)
                                print(line(f'round {number + 1}: {label}', results[label]))
                            mine, base = results['portal'], results['bare (baseline)']
                            ratios.append(mine.per_second / base.per_second)
                            cpu_ratios.append(base.cpu_ms / mine.cpu_ms)
                        ratio, cpu_ratio = statistics.median(ratios), statistics.median(cpu_ratios)
                        print(
                            f'ratio portal/bare pages per second: {", ".join(f"{r:.2f}" for r in ratios)}; '
                            f'median {ratio:.2f}x (bare CPU per page / portal CPU per page: median {cpu_ratio:.2f}x)'
                        )
                        passed = ratio >= 1.0
                        ok &= passed
                        print(
                            verdict(passed, f"{path}: {ratio:.2f}x the bare page's pages per second (budget >= 1.0x)")
                        )
                finally:
                    for phone in portal_phones + bare_phones:
                        await phone.close()
    print(f'\nOVERALL: {"PASS" if ok else "MISS"}')
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(prog='python -m bench.page_cost', description=__doc__.splitlines()[0])
    parser.add_argument('--tabs', default=','.join(MARKERS), help='comma-separated, from ' + ', '.join(MARKERS))
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--concurrency', type=int, default=4)
    parser.add_argument('--seconds', type=float, default=5.0)
    args = parser.parse_args()
    sys.exit(0 if asyncio.run(run(args.tabs.split(','), args.rounds, args.concurrency, args.seconds)) else 1)


if __name__ == '__main__':
    main()
