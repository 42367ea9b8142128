"""The deploy/ recipe, started for real: the nginx site and two instances as the systemd unit starts them.

Used by tests/test_deploy.py and by the load benchmark's two-instance run.
"""

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from portal.devmail import _free_port
from tests.live_server import ROOT, running_process

NGINX = shutil.which('nginx') or '/usr/sbin/nginx'
SITE = ROOT / 'deploy' / 'nginx' / 'eyecare-portal.conf'
UNIT = ROOT / 'deploy' / 'systemd' / 'eyecare-portal@.service'


@dataclass(frozen=True)
class Deployment:
    url: str  # the proxy's
    pids: list[int]  # the instances'


def unit_service(port: int, state_dir: Path, shared_env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The command and environment the systemd unit gives instance `port`, with this checkout and a
    temporary state directory standing in for /opt/eyecare-portal and /var/lib/eyecare-portal."""
    text = UNIT.read_text().replace('%i', str(port))
    text = text.replace('/opt/eyecare-portal', str(ROOT)).replace('/var/lib/eyecare-portal', str(state_dir))
    settings = dict(re.findall(r'^Environment=(\w+)=(.*)$', text, flags=re.M))
    [exec_start] = re.findall(r'^ExecStart=(.*)$', text, flags=re.M)
    [workdir] = re.findall(r'^WorkingDirectory=(.*)$', text, flags=re.M)
    assert Path(workdir) == ROOT
    python, *args = exec_start.split()
    assert python == f'{ROOT}/.venv/bin/python' and args == ['main.py']
    Path(settings['PORTAL_DATA_DIR']).mkdir(parents=True)  # systemd's StateDirectory=
    return [sys.executable, *args], {**shared_env, **settings}  # unit lines win, as after EnvironmentFile=


def nginx_config(tmp_path: Path, listen_port: int, instance_ports: list[int], *, trust_forwarded: bool = False) -> Path:
    """The shipped site file, listening on a free loopback port and pointing at this test's instances,
    inside a minimal main configuration (Debian's would also load sites-enabled/default on port 80)."""
    site = SITE.read_text()
    site = re.sub(r'^\s*listen \[::\]:80;\n', '', site, flags=re.M)
    site = site.replace('listen 80;', f'listen 127.0.0.1:{listen_port};')
    upstreams = ''.join(f'    server 127.0.0.1:{port};\n' for port in instance_ports)
    site, replaced = re.subn(r'(    server 127\.0\.0\.1:\d+;\n)+', upstreams, site)
    assert replaced == 1
    if trust_forwarded:
        site = site.replace(
            '    #   set_real_ip_from 10.0.0.2;\n    #   real_ip_header X-Forwarded-For;',
            '    set_real_ip_from 127.0.0.1;\n    real_ip_header X-Forwarded-For;',
        )
        assert 'set_real_ip_from 127.0.0.1;' in site
    (tmp_path / 'site.conf').write_text(site)
    temp = {name: tmp_path / name for name in ('client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi')}
    main = tmp_path / 'nginx.conf'
    main.write_text(
        ('user root;\n' if os.geteuid() == 0 else '')
        + f'worker_processes 1;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/nginx-error.log warn;\n'
        + 'daemon off;\nevents { worker_connections 256; }\nhttp {\n    include /etc/nginx/mime.types;\n'
        + '    log_format routed \'$cookie_portal_route $upstream_addr $status "$request"\';\n'
        + f'    access_log {tmp_path}/nginx-access.log routed;\n'
        + ''.join(f'    {name}_temp_path {path};\n' for name, path in temp.items())
        + f'    include {tmp_path / "site.conf"};\n}}\n'
    )
    return main


@contextmanager
def deployment(tmp_path: Path, shared_env: dict[str, str], *, trust_forwarded: bool = False) -> Iterator[Deployment]:
    """Two instances and nginx in front of them. `trust_forwarded` makes nginx believe X-Forwarded-For from
    loopback, as the site file says to do for a proxy in front of it (the load benchmark plays that proxy)."""
    ports, listen_port = [_free_port(), _free_port()], _free_port()
    proxy_url = f'http://127.0.0.1:{listen_port}'
    config = nginx_config(tmp_path, listen_port, ports, trust_forwarded=trust_forwarded)
    checked = nginx_test(config)
    assert 'syntax is ok' in checked and 'test is successful' in checked, checked
    with ExitStack() as stack:
        pids = []
        for port in ports:
            command, env = unit_service(port, tmp_path / 'state', {**shared_env, 'PORTAL_BASE_URL': proxy_url})
            log = tmp_path / f'instance-{port}.log'
            pids.append(stack.enter_context(running_process(command, env, f'http://127.0.0.1:{port}/login', log)).pid)
        stack.enter_context(running_process([NGINX, '-c', str(config)], {}, proxy_url + '/login', tmp_path / 'nx.log'))
        yield Deployment(proxy_url, pids)


def nginx_test(config: Path) -> str:
    """`nginx -t`: what an operator runs before reloading."""
    done = subprocess.run([NGINX, '-t', '-c', str(config)], capture_output=True, text=True, timeout=30, check=False)
    return done.stdout + done.stderr
