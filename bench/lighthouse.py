"""Lighthouse (mobile profile, simulated throttling) with Debian's Chromium, installed once from npm.

    python -m bench.lighthouse URL [URL...]     # performance, accessibility, best practices, LCP, TBT, bytes

Lighthouse 12.2.3 is the last release that runs on Node 20 (Debian 12's). It is installed on first use
into `${XDG_CACHE_HOME:-~/.cache}/portal-lighthouse` with `npm`, never into the repository; the
benchmarks that need it call `lighthouse()` here, which installs it when it is missing.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.servers import BROWSER_PATH

LIGHTHOUSE_VERSION = '12.2.3'
CACHE_DIR = Path(os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache') / 'portal-lighthouse'
LIGHTHOUSE_BIN = CACHE_DIR / 'node_modules' / '.bin' / 'lighthouse'
CHROME_FLAGS = (
    '--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update '
    '--disable-sync --no-first-run'
)


def ensure_installed() -> bool:
    """Install Lighthouse into the cache folder once; False (with the reason printed) when it cannot be."""
    if LIGHTHOUSE_BIN.exists():
        return True
    npm = shutil.which('npm')
    if not npm:
        print('  (lighthouse needs Node.js and npm: apt-get install nodejs npm)')
        return False
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, 'install', '--silent', '--save-exact', f'lighthouse@{LIGHTHOUSE_VERSION}'],
        cwd=CACHE_DIR,
        capture_output=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0 or not LIGHTHOUSE_BIN.exists():
        print(f'  (npm could not install lighthouse@{LIGHTHOUSE_VERSION}: {done.stderr.decode()[-300:]})')
        return False
    return True


def lighthouse(url: str, cookie_header: str = '') -> dict | None:
    """Scores and the main audits of one page; a signed-in page is measured with its cookie."""
    if not ensure_installed():
        return None
    with tempfile.NamedTemporaryFile(suffix='.json') as out:
        args = [
            str(LIGHTHOUSE_BIN),
            url,
            '--quiet',
            f'--chrome-flags={CHROME_FLAGS}',
            '--only-categories=performance,accessibility,best-practices',
            '--output=json',
            f'--output-path={out.name}',
        ]
        if cookie_header:
            args.append('--extra-headers=' + json.dumps({'Cookie': cookie_header}))
        env = {**os.environ, 'CHROME_PATH': BROWSER_PATH}
        done = subprocess.run(args, env=env, capture_output=True, timeout=240, check=False)
        if done.returncode != 0:
            print(f'  (lighthouse failed on {url}: {done.stderr.decode()[-300:]})')
            return None
        report = json.loads(Path(out.name).read_text())
    categories, audits = report['categories'], report['audits']
    a11y_ids = {ref['id'] for ref in categories['accessibility']['auditRefs']}
    return {
        'final_url': report.get('finalDisplayedUrl') or report.get('finalUrl', ''),
        'performance': round(categories['performance']['score'] * 100),
        'accessibility': round(categories['accessibility']['score'] * 100),
        'best_practices': round(categories['best-practices']['score'] * 100),
        'fcp': audits['first-contentful-paint']['displayValue'],
        'lcp': audits['largest-contentful-paint']['displayValue'],
        'tbt': audits['total-blocking-time']['displayValue'],
        'kib': audits['total-byte-weight']['numericValue'] / 1024,
        'a11y_failures': [k for k, v in audits.items() if k in a11y_ids and v.get('score') == 0],
        'a11y_nodes': [
            f'{k}: {_short(item["node"])}'
            for k, v in audits.items()
            if k in a11y_ids and v.get('score') == 0
            for item in v.get('details', {}).get('items', [])[:3]
            if 'node' in item
        ],
        'opportunities': [
            (v['title'], v.get('details', {}).get('overallSavingsMs', 0))
            for v in audits.values()
            if v.get('details', {}).get('type') == 'opportunity' and v['details'].get('overallSavingsMs', 0) > 100
        ],
    }


CONTRAST = re.compile(r'contrast of ([\d.]+) \(foreground color: (#\w+), background color: (#\w+)')


def _short(node: dict) -> str:
    """The failing element and, for contrast, just the ratio and the two colours."""
    snippet = node.get('snippet', '')[:90]
    if match := CONTRAST.search(node.get('explanation', '')):
        return f'{snippet} contrast {match[1]} ({match[2]} on {match[3]}, needs 4.5)'
    return snippet


def main() -> None:
    parser = argparse.ArgumentParser(prog='python -m bench.lighthouse', description=__doc__.splitlines()[0])
    parser.add_argument('urls', nargs='+', metavar='URL')
    failed = False
    for url in parser.parse_args().urls:
        scores = lighthouse(url)
        if scores is None:
            failed = True
            continue
        failures = f'; accessibility failures: {", ".join(scores["a11y_failures"])}' if scores['a11y_failures'] else ''
        print(
            f'{url}: performance {scores["performance"]}, accessibility {scores["accessibility"]}, '
            f'best-practices {scores["best_practices"]}, LCP {scores["lcp"]}, TBT {scores["tbt"]}, '
            f'{scores["kib"]:.0f} KiB{failures}'
        )
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
