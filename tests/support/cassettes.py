"""Read recorded HTTP interactions (Betamax JSON, vcrpy YAML, R vcr YAML) to serve them again on loopback.

The recordings live in ../shared/data/payloads (third-party data: read in place, never copied here).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml  # type: ignore[import-untyped]

from tests.support.http_replay import Reply

REPO = Path(__file__).resolve().parents[2]
PAYLOADS = REPO.parent / "shared" / "data" / "payloads"


@dataclass(frozen=True)
class Interaction:
    method: str
    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.url).query, keep_blank_values=True).items()}

    def json(self) -> Any:
        return json.loads(self.body)

    def reply(self) -> Reply:
        """The recorded answer, as the loopback server should send it again."""
        return Reply(status=self.status, body=self.body, headers=self.headers)


def _headers(raw: Any) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in (raw or {}).items():
        if str(name).lower() in ("set-cookie", "cookie"):
            continue
        headers[str(name)] = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return headers


def _body(raw: Any) -> bytes:
    if isinstance(raw, str):
        return raw.encode("utf-8")
    if isinstance(raw, dict):
        if raw.get("base64_string"):
            return base64.b64decode(raw["base64_string"])
        text = raw.get("string") or ""
        return text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return b""


def _status(raw: Any) -> int:
    if isinstance(raw, dict):
        return int(raw.get("code") or raw["status_code"])
    return int(raw)


def load(path: Path) -> list[Interaction]:
    """Every interaction of a cassette, whichever of the three formats it is in."""
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    raw = data.get("interactions") or data.get("http_interactions") or []
    return [
        Interaction(
            method=str(item["request"]["method"]).upper(),
            url=str(item["request"]["uri"]),
            status=_status(item["response"]["status"]),
            headers=_headers(item["response"].get("headers")),
            body=_body(item["response"].get("body")),
        )
        for item in raw
    ]


def payload(*parts: str) -> Path:
    return PAYLOADS.joinpath(*parts)


def find(interactions: list[Interaction], method: str, path_part: str) -> list[Interaction]:
    return [i for i in interactions if i.method == method and path_part in i.url]
