"""Login-link request to "message accepted by the mail server": the patient's wait for the email.

Budget (docs/design.md): p95 under 150 ms on loopback. Measured from calling
`services.magic_link.request_login_link` to a real aiosmtpd server on loopback receiving DATA, one
request at a time, each for a different active patient from a different client address (so the
throttle never refuses one). Baseline: the same server receiving an equally sized message sent with
plain aiosmtplib, which is the floor any portal could reach on this machine.

    python -m bench.link_latency [--requests 200] [--database-url postgres://...|'']
"""

import argparse
import asyncio
import sys
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

import aiosmtplib
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.common import (
    add_database_args,
    bench_database,
    exit_code,
    for_each_database,
    header,
    orm,
    ratio,
    row,
    summary,
    verdict,
)
from portal.devmail import _free_port
from services import magic_link, outbox, sessions, throttle
from tests.factories import make_active_patient, make_practice, make_staff

BUDGET_P95_MS = 150.0
WARMUP = 10


class StampingHandler:
    """Notes when DATA arrives, on the server's own thread, and wakes the benchmark's event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[float]] | None = None
        self.last_content = b''

    def expect(self) -> asyncio.Future[float]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[float] = loop.create_future()
        with self._lock:
            self._waiter = (loop, future)
        return future

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        stamp = time.perf_counter()
        self.last_content = envelope.original_content or envelope.content
        with self._lock:
            waiter, self._waiter = self._waiter, None
        if waiter:
            loop, future = waiter
            loop.call_soon_threadsafe(lambda: future.done() or future.set_result(stamp))
        return '250 OK queued as bench'


async def measure_portal(handler: StampingHandler, emails: list[str]) -> tuple[list[float], list[float]]:
    """Per request: (time until request_login_link returned, time until the server had the message)."""
    returned, delivered = [], []
    for i, email in enumerate(emails):
        arrival = handler.expect()
        start = time.perf_counter()
        await magic_link.request_login_link(email, f'127.1.{i // 250}.{i % 250 + 1}')
        returned.append(time.perf_counter() - start)
        delivered.append(await asyncio.wait_for(arrival, timeout=10) - start)
        await outbox.wait_for_pending()  # the row is marked sent before the next request starts
    return returned, delivered


async def measure_plain_smtp(handler: StampingHandler, port: int, sample: EmailMessage, count: int) -> list[float]:
    delivered = []
    for _ in range(count):
        arrival = handler.expect()
        start = time.perf_counter()
        await aiosmtplib.send(sample, hostname='127.0.0.1', port=port, timeout=10)
        delivered.append(await asyncio.wait_for(arrival, timeout=10) - start)
    return delivered


async def run(kind: str, pg_url: str, requests: int) -> bool:
    handler = StampingHandler()
    port = _free_port()
    controller = Controller(handler, hostname='127.0.0.1', port=port)
    controller.start()
    try:
        async with bench_database(kind, pg_url, 'portal_bench_link') as url, orm(url):
            magic_link.configure(magic_link.LinkSettings(secret='b' * 48, base_url='http://portal.bench'))
            outbox.configure(outbox.SmtpTransport(host='127.0.0.1', port=port, mail_from='portal@example.org'))
            sessions.configure(idle_minutes=30, absolute_hours=12)
            throttle.configure(None)  # fresh in-memory counters: earlier runs leave nothing behind
            await make_practice()
            staff = await make_staff()
            patients = [await make_active_patient(staff=staff) for _ in range(requests + WARMUP)]
            emails = [p.email for p in patients]

            await measure_portal(handler, emails[:WARMUP])
            returned, delivered = await measure_portal(handler, emails[WARMUP:])
            sample = message_from_bytes(handler.last_content, policy=policy.default)
            for name in ('Received', 'X-Peer', 'X-MailFrom', 'X-RcptTo'):
                del sample[name]
            await measure_plain_smtp(handler, port, sample, WARMUP)
            baseline = await measure_plain_smtp(handler, port, sample, requests)
    finally:
        controller.stop()

    portal, returned_stats, plain = summary(delivered), summary(returned), summary(baseline)
    print(f'\n## {kind} ({len(handler.last_content)}-byte message, {requests} requests)')
    print(row('plain aiosmtplib send (baseline)', plain))
    print(row('portal: request -> DATA received', portal))
    print(row('portal: request call returned', returned_stats))
    print(f'ratio portal/baseline: p50 {ratio(portal["p50"], plain["p50"])}, p95 {ratio(portal["p95"], plain["p95"])}')
    ok = portal['p95'] < BUDGET_P95_MS
    print(verdict(ok, f'{kind}: p95 {portal["p95"]:.1f} ms vs budget < {BUDGET_P95_MS:.0f} ms'))
    return ok


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--requests', type=int, default=200)
    add_database_args(parser)
    args = parser.parse_args()
    if not args.only:
        header('Login-link latency: request_login_link -> message accepted by the SMTP server (loopback)')
    results = await for_each_database(
        'bench.link_latency', args, lambda kind: run(kind, args.database_url, args.requests)
    )
    if not args.only:
        print(f'\nOVERALL: {"PASS" if all(results) else "MISS"} (p95 < {BUDGET_P95_MS:.0f} ms on every database)')
    return exit_code(results)


if __name__ == '__main__':
    sys.exit(asyncio.run(main()))
