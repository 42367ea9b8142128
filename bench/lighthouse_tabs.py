"""Lighthouse on the signed-in tabs, median of several runs, beside the bare NiceGUI pages in the same runs.

Budget (issue 11): mobile performance >= 95 on each signed-in tab, as the median of 5 runs (a single run
moves by 3-5 points on this machine). The runs are interleaved (portal tab, bare page, next tab, ...) so
that a busy moment of the shared machine falls on both sides alike.

    python -m bench.lighthouse_tabs [--runs 5] [--tabs /prescriptions,/appointments,/billing]
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

from bench.common import header, verdict
from bench.lighthouse import lighthouse
from bench.page_weight import signed_in_cookies
from bench.servers import BROWSER_ARGS, BROWSER_PATH, bare_server, portal_server

BUDGET = 95
TABS = ('/prescriptions', '/appointments', '/billing')


def _seconds(value: str) -> float:
    return float(value.replace('\xa0', ' ').split()[0].replace(',', ''))


def summary(label: str, results: list[dict]) -> int:
    """Prints each run and the medians; returns the median performance score."""
    scores = [r['performance'] for r in results]
    median = statistics.median(scores) if scores else 0
    lcp = statistics.median(_seconds(r['lcp']) for r in results) if results else float('nan')
    fcp = statistics.median(_seconds(r['fcp']) for r in results) if results else float('nan')
    tbt = statistics.median(_seconds(r['tbt']) for r in results) if results else float('nan')
    kib = statistics.median(r['kib'] for r in results) if results else float('nan')
    print(
        f'{label:<30} performance {" ".join(f"{s:3d}" for s in scores)}  median {median:5.1f}  '
        f'FCP {fcp:.1f} s  LCP {lcp:.1f} s  TBT {tbt:.0f} ms  {kib:.0f} KiB  '
        f'accessibility {min((r["accessibility"] for r in results), default=0)}'
    )
    return median


async def run(runs: int, tabs: list[str]) -> bool:
    header(f'Lighthouse (mobile, simulated throttling) on the signed-in tabs: median of {runs} interleaved runs')
    ok = True
    with tempfile.TemporaryDirectory(prefix='portal-bench-lh-') as tmp:
        async with portal_server(Path(tmp)) as portal:
            with bare_server(Path(tmp)) as bare:
                async with async_playwright() as playwright:
                    browser = await playwright.chromium.launch(executable_path=BROWSER_PATH, args=BROWSER_ARGS)
                    cookies = await signed_in_cookies(browser, portal.login_link)
                    await browser.close()
                cookie = '; '.join(f'{c["name"]}={c["value"]}' for c in cookies)
                results: dict[str, list[dict]] = {}
                for _ in range(runs):
                    for path in tabs:
                        for label, url, cookie_header in (
                            (f'portal {path}', portal.base_url + path, cookie),
                            (f'bare {path} (baseline)', bare.base_url + path, ''),
                        ):
                            result = await asyncio.to_thread(lighthouse, url, cookie_header)
                            if result is not None and result['final_url'].rstrip('/').endswith(path):
                                results.setdefault(label, []).append(result)
                print()
                for path in tabs:
                    median = summary(f'portal {path}', results.get(f'portal {path}', []))
                    summary(f'bare {path} (baseline)', results.get(f'bare {path} (baseline)', []))
                    passed = median >= BUDGET and len(results.get(f'portal {path}', [])) == runs
                    ok &= passed
                    print(verdict(passed, f'portal {path}: median performance {median:g} (budget >= {BUDGET})'))
    print(f'\nOVERALL: {"PASS" if ok else "MISS"}')
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(prog='python -m bench.lighthouse_tabs', description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--tabs', default=','.join(TABS))
    args = parser.parse_args()
    sys.exit(0 if asyncio.run(run(args.runs, args.tabs.split(','))) else 1)


if __name__ == '__main__':
    main()
