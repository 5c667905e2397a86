"""Dashboard users and roles. Passwords are stored as scrypt hashes; `grumble hash-password` makes them.

Roles, each including the one before: viewer (reads), responder (triages and answers), admin (settings).
No users configured means local use: everyone is an admin, no login asked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

ROLES = ("viewer", "responder", "admin")
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str | None = None  # None: signs in through OpenID Connect (matched by email)
    email: str | None = None

    def can(self, role: str) -> bool:
        """Whether this user has `role` or a stronger one."""
        return ROLES.index(self.role) >= ROLES.index(role)


LOCAL_USER = User(name="local", role="admin")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def is_password_hash(value: str) -> bool:
    parts = value.split("$")
    return len(parts) == 6 and parts[0] == "scrypt" and all(p.isdigit() for p in parts[1:4])


def verify_password(password: str, stored: str) -> bool:
    if not is_password_hash(stored):
        return False
    _, n, r, p, salt, digest = stored.split("$")
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
    )
    return hmac.compare_digest(actual, expected)


def authenticate(users: tuple[User, ...], name: str, password: str) -> User | None:
    for user in users:
        if user.name == name and user.password_hash and verify_password(password, user.password_hash):
            return user
    # Same work for an unknown name, so response time does not reveal which names exist.
    verify_password(password, hash_password("timing", b"0" * 16))
    return None


def user_for_email(users: tuple[User, ...], email: str | None) -> User | None:
    """The configured user an OpenID Connect login maps to; unknown emails get no access."""
    if not email:
        return None
    for user in users:
        if user.email and user.email.lower() == email.lower():
            return user
    return None
