"""Dashboard users and roles. Passwords are stored as argon2id hashes (argon2-cffi, RFC 9106's
low-memory profile); `grumble hash-password` makes them. Hashes made before (scrypt, N=2^14) still
verify, and are replaced by an argon2id hash at the user's next sign-in (monitor/auth/login.py).

Roles, each including the one before: viewer (reads), responder (triages and answers), admin (settings).
No users configured means local use: everyone is an admin, no login asked.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ROLES = ("viewer", "responder", "admin")


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str | None = None  # None: signs in through OpenID Connect (matched by email)
    email: str | None = None
    timezone: str | None = None  # None: the [dashboard] timezone

    def can(self, role: str) -> bool:
        """Whether this user has `role` or a stronger one."""
        return ROLES.index(self.role) >= ROLES.index(role)


LOCAL_USER = User(name="local", role="admin")


def shown_name(name: str) -> str:
    """A person's name as a screen or a sentence shows it: the one user of a Grumble without sign-in is
    "you" there ("local" is only what the records keep)."""
    return "you" if name == LOCAL_USER.name else name


def typed_name(typed: str, me: str) -> str:
    """A name typed in a field (an assignee) as the records keep it: "you" or "me" is the person typing,
    so the one user of a Grumble without sign-in never needs to know they are "local"."""
    cleaned = typed.strip()
    return me if cleaned.lower() in ("you", "me") else cleaned


_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _is_scrypt(value: str) -> bool:
    parts = value.split("$")
    return len(parts) == 6 and parts[0] == "scrypt" and all(p.isdigit() for p in parts[1:4])


def is_password_hash(value: str) -> bool:
    return value.startswith("$argon2id$") or _is_scrypt(value)


def needs_rehash(stored: str) -> bool:
    """True for a hash weaker than today's: scrypt, or argon2 with older parameters."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def verify_password(password: str, stored: str) -> bool:
    if stored.startswith("$argon2"):
        try:
            return _HASHER.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    if not _is_scrypt(stored):
        return False
    _, n, r, p, salt, digest = stored.split("$")
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
    )
    return hmac.compare_digest(actual, expected)


@functools.cache
def _timing_hash() -> str:
    return hash_password("timing")


def authenticate(users: tuple[User, ...], name: str, password: str) -> User | None:
    # One hash check whatever the name: an unknown name is checked against a stand-in hash, and a known
    # name with a wrong password is not checked again, so response time does not reveal which exist.
    user = next((u for u in users if u.name == name and u.password_hash), None)
    stored = user.password_hash if user is not None and user.password_hash else _timing_hash()
    right = verify_password(password, stored)
    return user if right and user is not None else None


def user_for_email(users: tuple[User, ...], email: str | None) -> User | None:
    """The configured user an OpenID Connect login maps to; unknown emails get no access."""
    if not email:
        return None
    for user in users:
        if user.email and user.email.lower() == email.lower():
            return user
    return None
