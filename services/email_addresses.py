"""Email addresses: one normalisation for matching, one validation for forms, one mask for logs."""

from email_validator import EmailNotValidError, validate_email

from services.errors import DomainError


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
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidEmail(f'"{address}" is not a valid email address: {error}') from None
    return address


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
