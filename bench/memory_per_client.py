"""Server memory per connected patient: RSS growth of the portal vs bare NiceGUI pages with the same widgets.

Budget (docs/design.md): within 2x a bare NiceGUI page with the same widgets. Both servers run as child processes;
The portal's entry pages are server-rendered HTML (no NiceGUI client, no websocket): for them the figure
is what an anonymous visitor leaves on the server, which should be nothing.
Every measurement gets a freshly started server (so one page's heap growth is not billed to the next);
the page is loaded a few times first so that imports, templates and caches are not billed to clients. Then
N headless Chromium pages (each its own browser context, so its own NiceGUI client and browser id) open the
page and stay connected over the websocket; the server's resident memory is read from /proc before and
after. After the pages close, the memory still held once NiceGUI has dropped the clients is printed too:
mostly heap that CPython keeps for reuse rather than returning it to the system.

    python -m bench.memory_per_client [--clients 25] [--waves 1]
"""

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, async_playwright

from bench.common import header, ratio, verdict
from bench.page_weight import signed_in_cookies
from bench.servers import BROWSER_ARGS, BROWSER_PATH, Server, bare_server, portal_server

WARMUP_LOADS = 3
SETTLE_SECONDS = 1.0
BUDGET_RATIO = 2.0
BATCH = 5


async def open_client(browser: Browser, url: str, cookies: list | None) -> BrowserContext:
    context = await browser.new_context()
    if cookies:
        await context.add_cookies(cookies)
    page = await context.new_page()
    await page.goto(url, wait_until='load')
    if await page.evaluate('() => typeof window.did_handshake !== "undefined"'):  # a NiceGUI page: its websocket
        await page.wait_for_function('() => window.did_handshake === true', timeout=20_000)
    return context


async def settled_rss(server: Server) -> int:
    """RSS once it stops moving for a moment (allocations after the last message settle)."""
    await asyncio.sleep(SETTLE_SECONDS)
    return server.rss_kib()


async def connect(browser: Browser, url: str, cookies: list | None, clients: int) -> list[BrowserContext]:
    contexts: list[BrowserContext] = []
    while len(contexts) < clients:  # a few at a time: quicker, and still gentle on two cores
        batch = min(BATCH, clients - len(contexts))
        contexts += await asyncio.gather(*(open_client(browser, url, cookies) for _ in range(batch)))
    return contexts


async def leave(contexts: list[BrowserContext]) -> None:
    for context in contexts:
        await context.close()
    await asyncio.sleep(10)  # NiceGUI drops a client reconnect_timeout (3 s) after it disconnects


async def per_client(
    browser: Browser, server: Server, path: str, clients: int, cookies: list | None = None, waves: int = 1
) -> tuple[float, int, list[int]]:
    """KiB per connected client, RSS before, and the RSS still held after each wave of clients left.

    With `waves` > 1 the same number of clients connects again: if the held memory keeps climbing wave
    after wave, clients leak; if it stays put, it is heap that the next clients reuse.
    """
    url = server.base_url + path
    for _ in range(WARMUP_LOADS):
        await (await open_client(browser, url, cookies)).close()
    before = await settled_rss(server)
    contexts = await connect(browser, url, cookies, clients)
    after = await settled_rss(server)
    await leave(contexts)
    held = [server.rss_kib() - before]
    for _ in range(waves - 1):
        await leave(await connect(browser, url, cookies, clients))
        held.append(server.rss_kib() - before)
    return (after - before) / clients, before, held


async def measure_fresh(
    browser: Browser, folder: Path, kind: str, path: str, clients: int, waves: int
) -> tuple[float, int, list[int]]:
    """A server of `kind` started for this measurement alone; the portal's dashboard is opened signed in."""
    folder = folder / f'{kind}{path.replace("/", "-")}'
    folder.mkdir()
    if kind == 'bare':
        with bare_server(folder) as server:
            return await per_client(browser, server, path, clients, waves=waves)
    async with portal_server(folder) as portal:
        cookies = await signed_in_cookies(browser, portal.login_link) if path != '/login' else None
        return await per_client(browser, portal, path, clients, cookies, waves=waves)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--clients', type=int, default=25)
    parser.add_argument('--waves', type=int, default=1, help='waves of clients, to tell a leak from heap reuse')
    args = parser.parse_args()
    header(f'Server memory per connected client: {args.clients} Chromium pages held open, fresh server each')
    ok = True
    rows = {}
    with tempfile.TemporaryDirectory(prefix='portal-bench-memory-') as tmp:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=BROWSER_PATH, args=BROWSER_ARGS)
            try:
                for path in ('/login', '/prescriptions'):
                    for kind in ('bare', 'portal'):
                        label = f'bare {path} (baseline)' if kind == 'bare' else f'portal {path}'
                        rows[label] = await measure_fresh(browser, Path(tmp), kind, path, args.clients, args.waves)
            finally:
                await browser.close()

    print(f'\n{"page":<34} {"KiB per client":>14} {"RSS before":>12}   RSS held after each wave left')
    for label, (kib, before, held) in rows.items():
        print(f'{label:<34} {kib:>14.1f} {before / 1024:>9.1f} MiB   {" / ".join(f"{h / 1024:.1f} MiB" for h in held)}')
    for path in ('/login', '/prescriptions'):
        mine, base = rows[f'portal {path}'][0], rows[f'bare {path} (baseline)'][0]
        within = mine <= BUDGET_RATIO * max(base, 1.0)
        ok &= within
        print(f'ratio portal/bare {path}: {ratio(mine, base)}')
        print(verdict(within, f'portal {path}: {mine:.0f} KiB per client vs bare {base:.0f} KiB (budget: within 2x)'))
    print(f'\nOVERALL: {"PASS" if ok else "MISS"}')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(asyncio.run(main()))
