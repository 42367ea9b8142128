"""The app's own INFO lines reach the server's output (uvicorn configures only its own loggers)."""

import io
import logging

from portal.app import configure_logging
from services.email_addresses import mask_email


def test_the_apps_info_lines_are_printed_with_emails_masked():
    configure_logging()
    [handler] = logging.getLogger('services').handlers
    stream = io.StringIO()
    original, handler.stream = handler.stream, stream
    try:
        logging.getLogger('services.magic_link').info('login link requested for %s', mask_email('jamie@example.com'))
    finally:
        handler.stream = original

    assert 'INFO' in stream.getvalue() and 'j***@e***.com' in stream.getvalue()
    assert 'jamie@example.com' not in stream.getvalue()


def test_twilios_request_log_with_numbers_and_texts_stays_off():
    configure_logging()
    configure_logging()  # a second app in the same process (tests) adds no second handler

    assert len(logging.getLogger('services').handlers) == 1
    assert not logging.getLogger('twilio.http_client').isEnabledFor(logging.INFO)
