"""A local HTTP server that answers like Twilio's Messages API (the real one is unreachable from tests).

It checks the account's Basic credentials, records each text, answers 201 with a message resource, and
refuses numbers that "replied STOP" with Twilio's error 21610, as the real API does.
"""

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = 'AC' + '0' * 32
AUTH_TOKEN = 'test-auth-token'
FROM_NUMBER = '+12075550199'


@dataclass
class FakeTwilio:
    stopped: set[str] = field(default_factory=set)  # numbers that replied STOP
    outage: int = 0  # answer every request with this HTTP status (e.g. 503)
    received: list[dict[str, str]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet test output
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers['Content-Length'])
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                fake.auth_headers.append(self.headers.get('Authorization', ''))
                expected = 'Basic ' + base64.b64encode(f'{ACCOUNT_SID}:{AUTH_TOKEN}'.encode()).decode()
                if self.path != f'/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json':
                    return self._answer(
                        404, {'code': 20404, 'message': 'The requested resource was not found', 'status': 404}
                    )
                if self.headers.get('Authorization') != expected:
                    return self._answer(401, {'code': 20003, 'message': 'Authenticate', 'status': 401})
                if fake.outage:
                    return self._answer(
                        fake.outage, {'code': 20500, 'message': 'Internal Server Error', 'status': fake.outage}
                    )
                if form.get('To') in fake.stopped:
                    return self._answer(
                        400,
                        {
                            'code': 21610,
                            'message': 'Attempt to send to unsubscribed recipient',
                            'more_info': 'https://www.twilio.com/docs/errors/21610',
                            'status': 400,
                        },
                    )
                fake.received.append(form)
                sid = 'SM' + secrets.token_hex(16)
                return self._answer(
                    201,
                    {
                        'sid': sid,
                        'account_sid': ACCOUNT_SID,
                        'to': form.get('To'),
                        'from': form.get('From'),
                        'body': form.get('Body'),
                        'status': 'queued',
                        'num_segments': '2',
                        'direction': 'outbound-api',
                        'api_version': '2010-04-01',
                        'uri': f'/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json',
                    },
                )

        self._server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self._server.server_address[1]}'
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
