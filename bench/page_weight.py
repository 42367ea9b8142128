"""Page weight of the patient pages against a bare NiceGUI page with the same widgets, plus Lighthouse.

Budget (docs/design.md): patient pages (login, dashboard) on a phone profile score Lighthouse mobile performance
>= 95 and accessibility 100, and their first load is no heavier than a bare NiceGUI page with the same
widgets (`bench/bare_pages.py`); the server-rendered entry pages (login, link sent, the link's page, help)
each weigh under 30 KiB on first load and score Lighthouse performance >= 98, accessibility 100. Both
servers run side by side as child processes; each page is loaded cold (fresh browser context, empty
cache) in headless Chromium through Playwright, several times.

    python -m bench.page_weight [--loads 3] [--no-lighthouse]

The bare pages are also served with `ui.run(tailwind=False)`, as a what-if: the Tailwind browser runtime
is a large share of a NiceGUI first load and of its Lighthouse performance score.
"""

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Browser, async_playwright

from bench.common import header, ratio, verdict
from bench.lighthouse import lighthouse
from bench.servers import BROWSER_ARGS, BROWSER_PATH, bare_server, portal_server

MIN_PERFORMANCE, MIN_ACCESSIBILITY = 95, 100


@dataclass(frozen=True)
class Load:
    url: str
    transferred: int  # bytes on the wire: headers plus encoded bodies
    requests: int
    dom_content_loaded_ms: float
    load_ms: float
    largest: list[tuple[int, str]]


async def load_cold(browser: Browser, url: str, cookies: list | None = None) -> Load:
    context = await browser.new_context()
    if cookies:
        await context.add_cookies(cookies)
    page = await context.new_page()
    finished = []
    page.on('requestfinished', lambda request: finished.append(request))
    await page.goto(url, wait_until='networkidle')
    timing = await page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        ' return [n.domContentLoadedEventEnd, n.loadEventEnd]; }'
    )
    final_url = page.url
    sizes = []
    for request in finished:
        size = await request.sizes()
        sizes.append((size['responseBodySize'] + size['responseHeadersSize'], request.url))
    await context.close()
    return Load(final_url, sum(s for s, _ in sizes), len(sizes), timing[0], timing[1], sorted(sizes, reverse=True)[:6])


@dataclass(frozen=True)
class Measured:
    first: Load  # the first cold load: its bytes and requests
    dcl_ms: float  # medians over all loads
    load_ms: float


async def measure(browser: Browser, targets: dict[str, tuple[str, list | None]], loads: int) -> dict[str, Measured]:
    """`loads` cold loads of every target, interleaved so that warm-up and noise hit each one alike."""
    runs: dict[str, list[Load]] = {label: [] for label in targets}
    for _ in range(loads):
        for label, (url, cookies) in targets.items():
            runs[label].append(await load_cold(browser, url, cookies))
    return {
        label: Measured(
            r[0], statistics.median(x.dom_content_loaded_ms for x in r), statistics.median(x.load_ms for x in r)
        )
        for label, r in runs.items()
    }


async def signed_in_cookies(browser: Browser, login_link: str) -> list:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(login_link)
    await page.get_by_role('button', name='Continue').click()
    await page.wait_for_url(re.compile(r'/prescriptions$'), timeout=15_000)
    cookies = await context.cookies()
    await context.close()
    return cookies


def print_load(label: str, measured: Measured) -> None:
    load = measured.first
    print(
        f'{label:<34} {load.transferred / 1024:8.1f} KiB  {load.requests:3d} requests  '
        f'DOMContentLoaded {measured.dcl_ms:7.1f} ms  load {measured.load_ms:7.1f} ms'
    )


def print_lighthouse(label: str, scores: dict | None) -> None:
    if scores is None:
        print(f'{label:<34} lighthouse not available')
        return
    print(
        f'{label:<34} performance {scores["performance"]:3d}  accessibility {scores["accessibility"]:3d}  '
        f'best-practices {scores["best_practices"]:3d}  FCP {scores["fcp"]}  LCP {scores["lcp"]}  '
        f'TBT {scores["tbt"]}  {scores["kib"]:.0f} KiB'
    )
    if scores['a11y_failures']:
        print(f'{"":<34} accessibility failures: {", ".join(scores["a11y_failures"])}')
        for node in scores['a11y_nodes']:
            print(f'{"":<36}{node}')
    for title, saving in scores['opportunities']:
        print(f'{"":<34} opportunity: {title} (~{saving:.0f} ms)')


PAGES = ('/login', '/prescriptions')
ENTRY_BUDGET_KIB = 30  # issue 8: each server-rendered entry page under 30 KiB on first load
ENTRY_MIN_PERFORMANCE = 98  # and Lighthouse mobile performance >= 98 (accessibility 100)


async def asked_for_link_cookies(browser: Browser, base_url: str) -> list:
    """A browser that has just asked for a link (any address: the page reads the same), for /login/sent."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(base_url + '/login')
    await page.get_by_label('Email address').fill('someone@example.com')
    await page.get_by_role('button', name='Email me a login link').click()
    await page.wait_for_url(re.compile(r'/login/sent$'), timeout=15_000)
    cookies = await context.cookies()
    await context.close()
    return cookies


async def entry_pages(browser: Browser, base_url: str, login_link: str, sent: list) -> dict[str, Load]:
    """First load, cold, of each entry page; the link's page is only looked at (a GET uses nothing up)."""
    return {
        '/login': await load_cold(browser, base_url + '/login'),
        '/login/sent': await load_cold(browser, base_url + '/login/sent', sent),
        '/login/link/<token>': await load_cold(browser, login_link),
        '/help': await load_cold(browser, base_url + '/help'),
    }


def print_entry_pages(loads: dict[str, Load]) -> bool:
    print(f'\n## entry pages (server-rendered HTML), first load, cold cache (budget: < {ENTRY_BUDGET_KIB} KiB each)')
    ok = True
    for path, load in loads.items():
        within = load.transferred < ENTRY_BUDGET_KIB * 1024
        ok &= within
        print(verdict(within, f'{path:<22} {load.transferred / 1024:6.1f} KiB  {load.requests} requests'))
    return ok


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--loads', type=int, default=3, help='cold loads per page')
    parser.add_argument('--no-lighthouse', action='store_true')
    args = parser.parse_args()
    header('Page weight: patient pages vs bare NiceGUI pages with the same widgets (headless Chromium)')
    ok = True
    with tempfile.TemporaryDirectory(prefix='portal-bench-pages-') as tmp:
        folder = Path(tmp)
        async with portal_server(folder) as portal, async_playwright() as playwright:
            with bare_server(folder) as bare, bare_server(folder, tailwind=False) as lean:
                browser = await playwright.chromium.launch(executable_path=BROWSER_PATH, args=BROWSER_ARGS)
                try:
                    sent = await asked_for_link_cookies(browser, portal.base_url)
                    entry = await entry_pages(browser, portal.base_url, portal.login_link, sent)  # before Continue
                    cookies = await signed_in_cookies(browser, portal.login_link)
                    targets: dict[str, tuple[str, list | None]] = {}
                    for path in PAGES:
                        targets[f'bare {path} (baseline)'] = (bare.base_url + path, None)
                        targets[f'portal {path}'] = (portal.base_url + path, cookies if path != '/login' else None)
                        targets[f'bare {path}, tailwind=False'] = (lean.base_url + path, None)  # what-if, not a budget
                    measured = await measure(browser, targets, args.loads)
                finally:
                    await browser.close()
                if not measured['portal /prescriptions'].first.url.endswith('/prescriptions'):
                    raise SystemExit('the signed-in load did not reach the dashboard')

                ok &= print_entry_pages(entry)
                print(f'\n## first load, cold cache (timings: median of {args.loads} interleaved loads)')
                for label, result in measured.items():
                    print_load(label, result)
                for path in PAGES:
                    mine, base = measured[f'portal {path}'], measured[f'bare {path} (baseline)']
                    print(
                        f'ratio portal/bare {path}: bytes {ratio(mine.first.transferred, base.first.transferred)}, '
                        f'requests {ratio(mine.first.requests, base.first.requests)}, '
                        f'DOMContentLoaded {ratio(mine.dcl_ms, base.dcl_ms)}'
                    )
                for path in PAGES:
                    print(f'largest responses of portal {path}:')
                    for size, url in measured[f'portal {path}'].first.largest:
                        print(f'  {size / 1024:8.1f} KiB  {url.removeprefix(portal.base_url)}')
                for path in PAGES:
                    mine, base = measured[f'portal {path}'].first, measured[f'bare {path} (baseline)'].first
                    within = mine.transferred <= base.transferred * 1.02  # 2%: headers and cookies vary
                    ok &= within
                    print(
                        verdict(
                            within,
                            f'portal {path} first load {mine.transferred / 1024:.1f} KiB vs bare '
                            f'{base.transferred / 1024:.1f} KiB (budget: no heavier, 2% tolerance)',
                        )
                    )

                if args.no_lighthouse:
                    return 0 if ok else 1
                print('\n## Lighthouse (mobile profile, simulated throttling)')
                cookie_header = '; '.join(f'{c["name"]}={c["value"]}' for c in cookies)
                scores = {
                    label: lighthouse(url, cookie_header if cookies_for else '')
                    for label, (url, cookies_for) in targets.items()
                    if label != 'bare /prescriptions, tailwind=False'  # one what-if is enough: keeps the run short
                }
                for label, result in scores.items():
                    print_lighthouse(label, result)
                print('(the tailwind=False rows are a what-if for the performance budget, not a baseline)')
                print(f'\n## Lighthouse, entry pages (performance >= {ENTRY_MIN_PERFORMANCE}, accessibility 100)')
                sent_header = '; '.join(f'{c["name"]}={c["value"]}' for c in sent)
                entry_targets = {
                    '/login': (portal.base_url + '/login', ''),
                    '/login/sent': (portal.base_url + '/login/sent', sent_header),
                    '/login/link/<token> (used by now)': (portal.login_link, ''),
                    '/help': (portal.base_url + '/help', ''),
                }
                for label, (url, cookie) in entry_targets.items():
                    result = lighthouse(url, cookie)
                    print_lighthouse(label, result)
                    good = result is not None and result['performance'] >= ENTRY_MIN_PERFORMANCE
                    good = good and result is not None and result['accessibility'] >= MIN_ACCESSIBILITY
                    ok &= good
                    print(verdict(good, f'entry page {label}'))
                for path in PAGES:
                    label, result = f'portal {path}', scores[f'portal {path}']
                    if result is None:
                        print(verdict(False, f'{label}: Lighthouse did not run here'))
                        ok = False
                        continue
                    if not result['final_url'].endswith(path):
                        print(f'  (Lighthouse ended on {result["final_url"]}, not {path})')
                    good = result['performance'] >= MIN_PERFORMANCE and result['accessibility'] >= MIN_ACCESSIBILITY
                    ok &= good
                    print(
                        verdict(
                            good,
                            f'{label}: performance {result["performance"]} (>= {MIN_PERFORMANCE}), '
                            f'accessibility {result["accessibility"]} (= {MIN_ACCESSIBILITY})',
                        )
                    )
    print(f'\nOVERALL: {"PASS" if ok else "MISS"}')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(asyncio.run(main()))
