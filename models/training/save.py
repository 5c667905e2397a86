"""Write a trained model as a Grumble model directory (the format is models/bundle.py's)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from models.bundle import GRUMBLE_CONFIG

# Files written by save_bundle; anything else that save_pretrained used to write is removed so
# a retrained model replaces its files rather than piling up new ones.
KEEP = {"MODEL_CARD.md", "README.md"}


def save_bundle(model: Any, tokenizer: Any, directory: Path, meta: dict[str, Any]) -> None:
    import torch

    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        if old.is_file() and old.name not in KEEP:
            old.unlink()
    model.to(torch.float16).save_pretrained(directory, safe_serialization=True)
    model.to(torch.float32)
    tokenizer.save_pretrained(directory)
    # save_pretrained records how *we* loaded the tokenizer (offline flags); users should not inherit that.
    tok_config = directory / "tokenizer_config.json"
    settings = json.loads(tok_config.read_text(encoding="utf-8"))
    for key in ("local_files_only", "is_local"):
        settings.pop(key, None)
    tok_config.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    (directory / GRUMBLE_CONFIG).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
