"""Email addresses: one normalisation for matching, one validation for forms, one mask for logs."""

from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from services.errors import DomainError
from services.typed_text import quoted


class InvalidEmail(DomainError):
    pass


def normalize_email(address: str | None) -> str:
    """Addresses are compared case-insensitively after trimming (domain rule 2)."""
    return (address or '').strip().lower()


def validated_email(address: str | None) -> str:
    """The trimmed address if it is a usable email address; otherwise a sentence saying why not."""
    address = (address or '').strip()
    if not address:
        raise InvalidEmail('Please enter an email address.')
    # longer than any address can be (and not a key for the cache below: 4,096 pasted pages would stay in memory)
    problem = 'it has more than 320 characters.' if len(address) > 320 else _problem(address)
    if problem:
        raise InvalidEmail(f'{quoted(address)} is not a valid email address: {problem}')
    return address


@lru_cache(maxsize=4096)  # pure, and checked twice per imported row (the form's check, then `email_valid`)
def _problem(address: str) -> str:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        return _reason(error)
    return ''


def _reason(error: EmailNotValidError) -> str:
    """The library's reason, which can quote the address or its characters back: shown like the address."""
    return quoted(str(error), 200)[1:-1]


def is_valid_email(address: str | None) -> bool:
    try:
        validated_email(address)
    except InvalidEmail:
        return False
    return True


def mask_email(address: str | None) -> str:
    """For logs: enough to tell two addresses apart, not enough to read one."""
    address = normalize_email(address)
    if '@' not in address:
        return '***'
    local, _, domain = address.rpartition('@')
    name, _, tld = domain.rpartition('.')
    return f'{local[:1]}***@{name[:1]}***.{tld}' if name else f'{local[:1]}***@***'
