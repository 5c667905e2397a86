"""Real SMTP servers on loopback (aiosmtpd: plain, STARTTLS, TLS, with or without login), a test CA,
and builders for scored mentions."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine, select, update

from monitor.config import Config, SmtpSettings, parse_config
from monitor.mention import Mention
from monitor.ranking import rank_key
from monitor.store.mentions import insert_mentions
from monitor.store.schema import mentions
from tests.conftest import REPO

NOW = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
USER, PASSWORD = "grumble", "s3cret"


# A CA and a certificate for 127.0.0.1 and localhost signed by it, made once per session.


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    end = start + dt.timedelta(days=30)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Grumble test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# The SMTP server.


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class MailSink:
    """The aiosmtpd handler: keeps every message. With `hold`, DATA waits for `release` before it
    answers, so a test can kill the client mid-send; `keep_held` says whether the held message counts
    as accepted (the server has it: the window SMTP cannot close) or not. Messages to an address in
    `defer_for` are answered "try again later"."""

    received: list[Received] = field(default_factory=list)
    defer_for: set[str] = field(default_factory=set)
    hold: bool = False
    keep_held: bool = True
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        item = Received(envelope.mail_from, list(envelope.rcpt_tos), message, raw)
        if self.defer_for & set(envelope.rcpt_tos):
            return "451 4.3.0 Try again later"
        if not self.hold:
            self.received.append(item)
            return "250 2.0.0 Message accepted"
        if self.keep_held:
            self.received.append(item)
        self.entered.set()
        deadline = time.monotonic() + 60
        while not self.release.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return "250 2.0.0 Message accepted" if self.keep_held else "451 4.3.0 Try again later"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    # handled=False: aiosmtpd answers 235 or 535 itself.
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    controller: Controller
    port: int
    security: str
    sink: MailSink

    def settings(self, **overrides: Any) -> SmtpSettings:
        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "security": self.security,
            "from_address": "Grumble <grumble@example.com>",
            "timeout_s": 10.0,
            "max_attempts": 1,
        }
        values.update(overrides)
        return SmtpSettings(**values)

    def smtp_table(self, **overrides: Any) -> dict[str, Any]:
        """The same settings as a [smtp] config table."""
        table: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "security": self.security,
            "from_address": "grumble@example.com",
            "timeout_s": 10,
            "max_attempts": 1,
        }
        table.update(overrides)
        return table

    @property
    def messages(self) -> list[EmailMessage]:
        return [item.message for item in self.sink.received]

    def stop(self) -> None:
        self.controller.stop()


StartServer = Callable[..., SmtpServer]


@pytest.fixture
def smtp_server(tls_files: TlsFiles) -> Iterator[StartServer]:
    started: list[SmtpServer] = []

    def start(
        security: str = "none", login: bool = False, port: int | None = None, sink: MailSink | None = None
    ) -> SmtpServer:
        port = port or free_port()
        sink = sink or MailSink()
        options: dict[str, Any] = {"hostname": "127.0.0.1", "port": port, "server_hostname": "localhost"}
        if security == "starttls":
            options.update(tls_context=tls_files.server_context(), require_starttls=True)
        elif security == "tls":
            # Implicit TLS: aiosmtpd does not count it as TLS for AUTH, so allow AUTH explicitly.
            options.update(ssl_context=tls_files.server_context(), auth_require_tls=False)
        else:
            options.update(auth_require_tls=False)
        if login:
            options.update(authenticator=_authenticator)
        controller = Controller(sink, ready_timeout=30, **options)
        controller.start()
        server = SmtpServer(controller, port, security, sink)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# Data.


@dataclass(frozen=True)
class Spec:
    """A mention and its score, as a test wants it stored."""

    n: int
    text: str | None = None
    negative: float = 0.9
    label: str = "negative"
    author_reach: int | None = None
    created_at: dt.datetime | None = None
    scored_at: dt.datetime | None = None
    collected_at: dt.datetime | None = None
    url: str | None = None
    author: str | None = None
    source: str = "test"
    triage: str = "open"


def add_mentions(
    engine: Engine, specs: Sequence[Spec], watch: str = "acme", now: dt.datetime = NOW
) -> list[int]:
    """Store the mentions linked to `watch`, scored as given (rank key included, as scoring stores it);
    returns their ids in the given order."""
    batch = [
        Mention(
            source=spec.source,
            external_id=f"m{spec.n}",
            text=spec.text or f"mention {spec.n}: acme lost my parcel",
            created_at=spec.created_at or now - dt.timedelta(minutes=30),
            author=spec.author or f"author{spec.n}",
            url=spec.url if spec.url is not None else f"https://social.example/{spec.n}",
            author_reach=spec.author_reach,
        )
        for spec in specs
    ]
    ids = []
    with engine.begin() as connection:
        insert_mentions(connection, watch, batch)
        for spec, stored in zip(specs, batch, strict=True):
            rest = (1.0 - spec.negative) / 2
            mention_id = connection.scalar(
                select(mentions.c.id).where(
                    mentions.c.source == spec.source, mentions.c.external_id == f"m{spec.n}"
                )
            )
            connection.execute(
                update(mentions)
                .where(mentions.c.id == mention_id)
                .values(
                    label=spec.label,
                    negative=spec.negative,
                    neutral=rest,
                    positive=rest,
                    model_version="test",
                    scored_at=spec.scored_at or now - dt.timedelta(minutes=5),
                    collected_at=spec.collected_at or now - dt.timedelta(minutes=10),
                    triage=spec.triage,
                    rank_key=rank_key(spec.negative, stored.created_at, spec.author_reach),
                )
            )
            ids.append(int(mention_id))
    return ids


def make_config(
    database_url: str = "sqlite://", public_url: str = "https://grumble.example", **sections: Any
) -> Config:
    data: dict[str, Any] = {
        "database_url": database_url,
        "watches": [{"name": "acme"}, {"name": "rival"}],
        "dashboard": {"public_url": public_url},
    }
    data.update(sections)
    return parse_config(data, None, {})


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


def smtp_toml(port: int) -> str:
    """The [smtp] table a test's grumble.toml sends through: the loopback server on `port`, one try."""
    return (
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        'from_address = "grumble@example.com"\nmax_attempts = 1\n'
    )


def write_cli_config(folder: Path, database_url: str, port: int, extra: str) -> Path:
    """A grumble.toml for the CLI in a subprocess, mailing through `port`; `extra` adds tables."""
    path = folder / "grumble.toml"
    path.write_text(
        f"""
database_url = "{database_url}"
[[watches]]
name = "acme"
[dashboard]
public_url = "https://grumble.example"
{smtp_toml(port)}{extra}
""",
        encoding="utf-8",
    )
    return path


def run_together(*commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Start every command before waiting for any, and return what each did."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    started = [
        subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for command in commands
    ]
    done = []
    for process in started:
        out, err = process.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return done


def grumble(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "monitor.cli", "-c", str(config), *args]
