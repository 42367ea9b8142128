"""Command line: run the portal (optionally with a demo practice), apply migrations, create staff accounts.

Operators meet the app here first, so every failure ends with one sentence that says what to do and
a non-zero exit status, never a traceback.
"""

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from portal.config import Settings

if TYPE_CHECKING:
    from services.demo_practice import DemoSeed

EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> None:
    if os.environ.get('NICEGUI_USER_SIMULATION'):  # page tests run this file: just build the app
        from portal.app import create_app

        create_app(Settings())
        return
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.demo:
        os.environ['PORTAL_DEMO'] = 'true'
    settings = _settings()
    if args.command == 'migrate':
        asyncio.run(_migrate(settings))
    elif args.command == 'create-staff':
        asyncio.run(_create_staff(settings, args))
    elif args.command == 'check-mail':
        asyncio.run(_check_mail(settings, args.to))
    elif args.command in ('backup', 'restore'):
        _backup_or_restore(settings, args)
    elif args.command == 'remove-demo':
        asyncio.run(_remove_demo(settings))
    else:
        _serve(settings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='python main.py',
        description='Eye-care patient portal: staff console at /staff, patient portal at /. '
        'Without a command, runs the portal. Settings come from PORTAL_* environment variables or .env.',
    )
    demo_help = 'seed a demo practice on an empty database and print how to sign in (same as PORTAL_DEMO=true)'
    parser.add_argument('--demo', action='store_true', help=demo_help)
    sub = parser.add_subparsers(dest='command', metavar='command')
    serve = sub.add_parser('serve', help='run the portal (the default)')
    serve.add_argument('--demo', action='store_true', default=argparse.SUPPRESS, help=demo_help)
    sub.add_parser('migrate', help='apply database migrations and exit')
    sub.add_parser(
        'remove-demo',
        help='delete the demo practice, its accounts and patients (real records stay)',
        description='Delete what --demo seeded: its staff accounts (with their published password), its patients '
        'and their records, and the demo practice unless real patients were entered into it. Real records and '
        'the audit trail stay. Then the portal starts without --demo.',
    )
    staff = sub.add_parser(
        'create-staff',
        help='create a staff account (the first one should be an admin)',
        description='Create a staff account. Asks for the password twice unless --password-stdin is given.',
    )
    staff.add_argument('--email', required=True, help='sign-in email address')
    staff.add_argument('--name', required=True, help='full name, shown in the audit trail')
    staff.add_argument('--role', choices=['admin', 'staff'], default='admin', help='default: admin')
    staff.add_argument(
        '--password-stdin', action='store_true', help='read the password from the first line of standard input'
    )
    check = sub.add_parser(
        'check-mail',
        help="send a test message with the mail settings and print the mail server's answer",
        description='Send a test message through the configured mail server (PORTAL_SMTP_*) and print its answer, '
        'or what is wrong, before the first patient needs a login link.',
    )
    check.add_argument('--to', required=True, metavar='ADDRESS', help='where to send the test message')
    backup = sub.add_parser(
        'backup',
        help='write a consistent snapshot of the database and the secret to one file',
        description='Write a consistent snapshot of the database (SQLite online backup, or pg_dump) and the data '
        "directory's secret to one file, readable by its owner only. Safe while the portal runs.",
    )
    backup.add_argument(
        'path', nargs='?', type=Path, help='file to write, or a directory (default: portal-backup-<UTC time>.tar.gz)'
    )
    restore = sub.add_parser(
        'restore',
        help='restore a backup into an empty installation',
        description='Restore a backup into the configured database and data directory. Refuses unless the database '
        'is empty; stop the portal first, then start it (it applies any newer migrations).',
    )
    restore.add_argument('path', type=Path, help='a file written by `python main.py backup`')
    return parser


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = '; '.join(_problem(e['loc'], e['msg']) for e in error.errors())
        _fail(f'The configuration is not valid: {problems}. Check the PORTAL_* environment variables or .env.')


def _problem(location: tuple, message: str) -> str:
    message = message.removeprefix('Value error, ')
    return f'PORTAL_{str(location[0]).upper()}: {message}' if location else message


def _fail(message: str, status: int = 1) -> NoReturn:
    print(message, file=sys.stderr)
    sys.exit(status)


def _serve(settings: Settings) -> None:
    from nicegui import app

    from portal import startup_heap
    from portal.app import create_app

    asyncio.run(_refuse_mixed_demo(settings))
    if settings.dev_mailbox and not settings.demo:
        print(
            'No PORTAL_SMTP_HOST is set: email goes to the built-in dev mailbox '
            f'({settings.base_url}/dev/mailbox), not to patients.',
            flush=True,
        )
    app.on_startup(startup_heap.freeze)  # once the database, routes and pages are all in place
    create_app(settings)


def print_demo_banner(settings: Settings, seed: 'DemoSeed') -> None:
    """Printed once the demo data is in place, so what it promises is true of this database."""
    from services.demo_practice import (
        DEMO_ADMIN_EMAIL,
        DEMO_PASSWORD,
        DEMO_PATIENT_EMAIL,
        DEMO_STAFF_EMAIL,
    )

    url = settings.base_url
    if not seed.demo_logins:
        print(
            '\nDemo mode: this database already holds a practice, so no demo data was added.\n'
            f'  Staff console:  {url}/staff/login (sign in with your own staff account)\n'
            f'  Patient portal: {url}/login\n',
            flush=True,
        )
        return
    where = 'seeded just now' if seed.seeded else 'already in this database'
    if settings.dev_mailbox:
        mail = f'  Dev mailbox:    {url}/dev/mailbox   (login links arrive here)\n'
    else:
        mail = f'  Mail goes to {settings.smtp_host}: demo addresses are not real, so login links will not arrive.\n'
    print(
        f'\nDemo practice ({where}):\n'
        f'  Staff console:  {url}/staff/login\n'
        f'                  sign in as {DEMO_ADMIN_EMAIL} / {DEMO_PASSWORD} (admin)\n'
        f'                  or {DEMO_STAFF_EMAIL} / {DEMO_PASSWORD} (front desk)\n'
        '                  (demo accounts skip two-step sign-in, which real administrators must set up)\n'
        f'  Patient portal: {url}/login\n'
        f'                  try the patient portal with {DEMO_PATIENT_EMAIL}\n' + mail,
        flush=True,
    )


def _masked(database_url: str) -> str:
    parts = urlsplit(database_url)
    if parts.password:
        netloc = parts.netloc.replace(f':{parts.password}@', ':***@')
        return urlunsplit(parts._replace(netloc=netloc))
    return database_url


async def _check_mail(settings: Settings, to: str) -> None:
    import aiosmtplib

    from portal.mail import smtp_transport
    from services import outbox

    if settings.dev_mailbox:
        _fail(
            'No PORTAL_SMTP_HOST is set, so mail goes to the built-in dev mailbox, not to patients. '
            'Set PORTAL_SMTP_HOST, PORTAL_SMTP_SECURITY, PORTAL_SMTP_USERNAME and PORTAL_SMTP_PASSWORD, '
            'then check again.'
        )
    smtp = smtp_transport(settings)
    login = f' as {smtp.username}' if smtp.username else ' without a login'
    where = f'{smtp.where} ({smtp.security}{login}) from {smtp.mail_from}'
    print(f'Sending a test message to {to} through {where}', flush=True)
    body = (
        f'This is a test message from the patient portal at {settings.base_url}.\n\n'
        'If you can read it, the portal can email login links. Nothing needs to be done.\n'
    )
    try:
        reply = await outbox.send_email(smtp, to=to, subject='Patient portal: test message', body=body)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        _fail(f'Not sent. {outbox.describe_failure(error, smtp)}')
    print(f'The mail server accepted it and answered: {reply}')


def _backup_or_restore(settings: Settings, args: argparse.Namespace) -> None:
    from portal import backup

    try:
        if args.command == 'backup':
            outcome = backup.backup(settings, args.path)
            print(f'Backup written to {outcome.path} ({outcome.path.stat().st_size:,} bytes).')
        else:
            outcome = backup.restore(settings, args.path)
            print(f'Restored {outcome.path} into {_masked(settings.database_url)}.')
    except backup.BackupError as error:
        _fail(str(error))
    for note in outcome.notes:
        print(note)


async def _apply_migrations(settings: Settings) -> None:
    from tortoise.exceptions import DBConnectionError

    from portal.db import apply_migrations

    try:
        await apply_migrations(settings.database_url)
    except (OSError, DBConnectionError) as error:
        _fail(f'Cannot reach the database at {_masked(settings.database_url)}: {error}')


async def _refuse_mixed_demo(settings: Settings) -> None:
    """Demo rows and real ones never share a running portal (services/demo_data.py says why)."""
    from tortoise.context import TortoiseContext

    from portal.db import tortoise_config
    from services.demo_data import demo_state

    await _apply_migrations(settings)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(settings.database_url))
        state = await demo_state()
    if settings.demo and state.has_real:
        _fail(
            f'This database holds real records ({state.real_staff} staff accounts, {state.real_patients} patients '
            'not seeded by the demo): --demo would show their login links in the dev mailbox. '
            'Start without --demo (and without PORTAL_DEMO).'
        )
    if not settings.demo and state.has_demo:
        _fail(
            f'This database holds the demo practice ({state.demo_staff} demo staff accounts with the published '
            f'password, {state.demo_patients} demo patients). Remove them with `python main.py remove-demo` '
            '(real records stay), or start with --demo to keep trying the demo.'
        )


async def _remove_demo(settings: Settings) -> None:
    from tortoise.context import TortoiseContext

    from portal.db import tortoise_config
    from services.demo_data import remove_demo
    from services.errors import DomainError

    await _apply_migrations(settings)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(settings.database_url))
        try:
            removed = await remove_demo()
        except DomainError as error:
            _fail(str(error))
    practice = 'the demo practice was removed' if removed.practice_removed else 'no demo practice was removed'
    print(
        f'Removed {removed.staff} demo staff accounts and {removed.patients} demo patients; {practice}. '
        'Real records and the audit trail stay.'
    )


async def _migrate(settings: Settings) -> None:
    await _apply_migrations(settings)
    print(f'Database {_masked(settings.database_url)} is up to date.')


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip('\r\n')
    try:
        password = getpass.getpass('Password: ')
        repeated = getpass.getpass('Repeat password: ')
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr)
        _fail('No account was created.')
    if repeated != password:
        _fail('The passwords do not match. No account was created.')
    return password


async def _create_staff(settings: Settings, args: argparse.Namespace) -> None:
    from tortoise.context import TortoiseContext

    from portal.db import tortoise_config
    from services.errors import DomainError
    from services.staff_auth import create_staff

    password = _read_password(args.password_stdin)
    await _apply_migrations(settings)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(settings.database_url))
        try:
            staff = await create_staff(args.email, args.name, password, args.role)
        except DomainError as error:
            _fail(f'{error} No account was created.')
    print(f'Created {staff.role} account for {staff.name} <{staff.email}>. Sign in at {settings.base_url}/staff/login')
    if staff.role == 'admin':
        print('Administrators set up two-step sign-in (an authenticator app on a phone) at the first sign-in.')
