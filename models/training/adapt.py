"""Fine-tune a trained sentiment model on a team's corrections, with the general training mix replayed
(issue 21, part 2).

Fine-tuning on 200 corrections alone collapsed to "everything negative" (issue 21): a team corrects
mostly complaints the model missed, so the corrections are skewed, few, and all of one kind of text.
Replaying rows of the general mix beside them (`replay_per_correction` of them per correction, drawn
afresh each epoch) keeps every class and domain in each batch, so the model moves toward the team's
language without forgetting the rest. A short schedule at a small learning rate, from the model in use.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from models.adapted import is_frozen
from models.encoding import Encoder
from models.training import corpus, data
from models.training.loop import adamw, length_grouped_batches, linear_warmup_decay, padded, predict_logits


@dataclass(frozen=True)
class AdaptRecipe:
    epochs: int = 3
    lr: float = 3e-5
    replay_per_correction: float = 4.0
    batch_size: int = 32
    max_length: int = 80  # tokens read in training, as the generations were trained
    infer_max_length: int = 128
    warmup: float = 0.1
    weight_decay: float = 0.01
    seed: int = 13
    # Stored per watch without them (models/adapted.py); a few hundred corrections only add noise to them.
    freeze_embeddings: bool = True
    # After training, pull the weights this share of the way back to where they started (weight-space
    # averaging, as lodo_average.py does across generations): less forgetting for some of the gain.
    anchor_weight: float = 0.5

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def replay_pool(mix: corpus.Corpus, size: int, seed: int) -> data.Dataset:
    """`size` training rows drawn from every set in the proportions the generations were trained on."""
    return corpus.epoch_mix(mix, corpus.epoch_quota(mix, size), seed)


def load(model_dir: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, local_files_only=True, dtype=torch.float32
    )
    return model, tokenizer


def adapt(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    labels: Sequence[int],
    replay: data.Dataset,
    recipe: AdaptRecipe = AdaptRecipe(),
) -> Any:
    """Fine-tune `model` in place on the corrections plus replayed rows; returns it in eval mode."""
    if len(texts) != len(labels) or not texts:
        raise ValueError(
            f"adapt: {len(texts)} texts and {len(labels)} labels; need as many of each, and some"
        )
    rng = random.Random(recipe.seed)
    torch.manual_seed(recipe.seed)
    encoder = Encoder(tokenizer, recipe.max_length)
    own = encoder.encode(list(texts))
    replay_encoded = encoder.encode(replay.texts)
    per_epoch = min(len(replay), round(recipe.replay_per_correction * len(texts)))
    epochs = []
    for _ in range(recipe.epochs):
        drawn = rng.sample(range(len(replay)), per_epoch)
        rows = own + [replay_encoded[i] for i in drawn]
        gold = list(labels) + [replay.labels[i] for i in drawn]
        epochs.append((rows, gold, length_grouped_batches([len(r) for r in rows], recipe.batch_size, rng)))
    total = sum(len(batches) for _, _, batches in epochs)
    trained = []
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(not (recipe.freeze_embeddings and is_frozen(name)))
        if parameter.requires_grad:
            trained.append((name, parameter))
    optimizer = adamw(trained, recipe.lr, recipe.weight_decay)
    start = {n: p.detach().clone() for n, p in trained} if recipe.anchor_weight else {}
    scheduler = linear_warmup_decay(optimizer, int(total * recipe.warmup), total)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    for rows, gold, batches in epochs:
        for idx in batches:
            ids, mask = padded(rows, idx, encoder.pad_id)
            loss = loss_fn(
                model(input_ids=ids, attention_mask=mask).logits, torch.tensor([gold[i] for i in idx])
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
    with torch.no_grad():
        for name, parameter in trained:
            if name in start:
                parameter.lerp_(start[name], recipe.anchor_weight)
    model.eval()
    return model


def log_probabilities(
    model: Any, tokenizer: Any, texts: Sequence[str], max_length: int = 128
) -> npt.NDArray[np.float64]:
    logits = predict_logits(model, Encoder(tokenizer, max_length), list(texts), "cpu").astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    out: npt.NDArray[np.float64] = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return out
