"""Command line: run the portal, apply migrations, create staff accounts."""

import argparse
import asyncio
import getpass
import os
import sys

from portal.config import Settings

DEMO_ADMIN_EMAIL = 'admin@example.com'


def main(argv: list[str] | None = None) -> None:
    if os.environ.get('NICEGUI_USER_SIMULATION'):  # page tests run this file: just build the app
        from portal.app import create_app

        create_app(Settings())
        return
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.demo:
        os.environ['PORTAL_DEMO'] = 'true'
    settings = Settings()
    if args.command == 'migrate':
        asyncio.run(_migrate(settings))
    elif args.command == 'create-staff':
        asyncio.run(_create_staff(settings, args))
    else:
        _serve(settings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='python main.py', description='Eye-care patient portal.')
    parser.add_argument('--demo', action='store_true', help='seed a demo practice on an empty database')
    sub = parser.add_subparsers(dest='command')
    sub.add_parser('serve', help='run the portal (the default)')
    sub.add_parser('migrate', help='apply database migrations and exit')
    staff = sub.add_parser('create-staff', help='create a staff account (the first one should be an admin)')
    staff.add_argument('--email', required=True)
    staff.add_argument('--name', required=True)
    staff.add_argument('--role', choices=['admin', 'staff'], default='admin')
    staff.add_argument('--password-stdin', action='store_true', help='read the password from standard input')
    return parser


def _serve(settings: Settings) -> None:
    from portal.app import create_app

    if settings.demo:
        print(
            '\nDemo practice (seeded on an empty database):\n'
            f'  staff console:  {settings.base_url}/staff   sign in as {DEMO_ADMIN_EMAIL} / demo-password-1\n'
            f'  patient portal: {settings.base_url}/\n'
            + (f'  dev mailbox:    {settings.base_url}/dev/mailbox\n' if settings.dev_mailbox else ''),
            flush=True,
        )
    create_app(settings)


async def _migrate(settings: Settings) -> None:
    from portal.db import apply_migrations

    await apply_migrations(settings.database_url)
    print('Database is up to date.')


async def _create_staff(settings: Settings, args: argparse.Namespace) -> None:
    from tortoise.context import TortoiseContext

    from portal.db import apply_migrations, tortoise_config
    from services.errors import DomainError
    from services.staff_auth import create_staff

    if args.password_stdin:
        password = sys.stdin.readline().rstrip('\n')
    else:
        password = getpass.getpass('Password: ')
        if getpass.getpass('Repeat password: ') != password:
            sys.exit('The passwords do not match.')
    await apply_migrations(settings.database_url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(settings.database_url))
        try:
            staff = await create_staff(args.email, args.name, password, args.role)
        except DomainError as error:
            sys.exit(str(error))
    print(f'Created {staff.role} account for {staff.email}.')
