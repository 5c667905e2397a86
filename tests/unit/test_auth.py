from pathlib import Path

import pytest

from monitor.auth.users import (
    User,
    authenticate,
    hash_password,
    needs_rehash,
    user_for_email,
    verify_password,
)
from monitor.cli import main
from monitor.config import load_config
from monitor.errors import ConfigError


def legacy_scrypt_hash(password: str) -> str:
    """A hash as Grumble made them before argon2id (scrypt, N=2^14, r=8, p=1)."""
    import base64
    import hashlib

    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def test_hash_and_verify() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and "correct horse" not in stored
    assert not needs_rehash(stored)
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong horse", stored)
    assert not verify_password("correct horse", "plain text")
    assert hash_password("same") != hash_password("same")  # salted
    old = legacy_scrypt_hash("correct horse")
    assert verify_password("correct horse", old) and not verify_password("wrong", old)
    assert needs_rehash(old)


def test_roles_include_the_weaker_ones() -> None:
    admin, responder, viewer = User("a", "admin"), User("r", "responder"), User("v", "viewer")
    assert admin.can("responder") and admin.can("viewer")
    assert responder.can("responder") and not responder.can("admin")
    assert viewer.can("viewer") and not viewer.can("responder")


def test_authenticate_and_email_mapping() -> None:
    users = (User("dana", "responder", hash_password("pw-dana-1")), User("sam", "admin", email="Sam@x.org"))
    assert authenticate(users, "dana", "pw-dana-1") == users[0]
    assert authenticate(users, "dana", "nope") is None
    assert authenticate(users, "sam", "") is None
    assert user_for_email(users, "sam@X.org") == users[1]
    assert user_for_email(users, "other@x.org") is None


def test_config_refuses_a_plain_password_and_unknown_role(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text(
        '[[users]]\nname = "d"\nrole = "responder"\npassword_hash = "hunter2"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="grumble hash-password"):
        load_config(path, environ={})
    path.write_text(f'[[users]]\nname = "d"\nrole = "boss"\npassword_hash = "{hash_password("x")}"\n')
    with pytest.raises(ConfigError, match=r"users\[0\]\.role: expected one of viewer, responder, admin"):
        load_config(path, environ={})


def test_hash_password_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("long enough pw\n"))
    assert main(["hash-password"]) == 0
    assert verify_password("long enough pw", capsys.readouterr().out.strip())
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["hash-password"]) == 1
