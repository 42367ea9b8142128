"""Keys derived from the one secret (`PORTAL_SECRET_KEY`), one per use, with HKDF (RFC 5869).

The emailed links (patient login, staff set-password), the session cookie and the forms' CSRF tokens are
signed with different keys: a value signed for one can never pass as the other, and neither key reveals the secret.
"""

import base64

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

LINK_SIGNING = b'eyecare-portal/v1/emailed-link-signing'
COOKIE_SIGNING = b'eyecare-portal/v1/session-cookie-signing'
CSRF_TOKENS = b'eyecare-portal/v1/csrf-tokens'


def derive(secret: str, purpose: bytes) -> str:
    """A 256-bit key for `purpose`, hex-encoded (JWT and cookie signers take text keys)."""
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose).derive(secret.encode()).hex()


def link_key(secret: str) -> str:
    return derive(secret, LINK_SIGNING)


def cookie_key(secret: str) -> str:
    return derive(secret, COOKIE_SIGNING)


def csrf_key(secret: str) -> str:
    return derive(secret, CSRF_TOKENS)


TOTP_ENCRYPTION = b'eyecare-portal/v1/totp-secret-encryption'


def totp_key(secret: str) -> bytes:
    """A Fernet key (urlsafe base64 of 32 bytes) that encrypts the staff's TOTP secrets at rest."""
    raw = HKDF(algorithm=SHA256(), length=32, salt=None, info=TOTP_ENCRYPTION).derive(secret.encode())
    return base64.urlsafe_b64encode(raw)
