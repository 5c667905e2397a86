"""The training loop: batches by length, the learning-rate schedule, one stage of fine-tuning or
distillation with evaluation on the dev splits, and the teacher's soft targets. `train.py` holds the
command around it (arguments, the two stages, finalising the bundle)."""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from models.encoding import Encoder
from models.labels import LABELS
from models.training import corpus, data

log = logging.getLogger("grumble.train")


def length_grouped_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffle, sort within pools of 50 batches by length, then shuffle the batches: little
    padding while every batch still mixes sources and classes."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: lengths[i])
        batches.extend(chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def padded(encoded: list[list[int]], idx: list[int], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The rows `idx` of `encoded` as one batch: token ids padded to the longest, and the attention mask."""
    width = max(len(encoded[i]) for i in idx)
    ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    for row, i in enumerate(idx):
        ids[row, : len(encoded[i])] = torch.tensor(encoded[i])
        mask[row, : len(encoded[i])] = 1
    return ids, mask


def adamw(named: list[tuple[str, torch.nn.Parameter]], lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW with no weight decay on biases and LayerNorm weights (the usual BERT fine-tuning setup)."""
    no_decay = ("bias", "LayerNorm.weight")
    return torch.optim.AdamW(
        [
            {"params": [p for n, p in named if not n.endswith(no_decay)], "weight_decay": weight_decay},
            {"params": [p for n, p in named if n.endswith(no_decay)], "weight_decay": 0.0},
        ],
        lr=lr,
    )


def linear_warmup_decay(
    optimizer: torch.optim.Optimizer, warmup: int, total: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """Same schedule as transformers.get_linear_schedule_with_warmup, typed."""

    def factor(step: int) -> float:
        if step < warmup:
            return step / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


@torch.inference_mode()
def predict_logits(model: Any, encoder: Encoder, texts: list[str], device: str) -> npt.NDArray[np.float32]:
    model.eval()
    out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    for batch in encoder.batches(encoder.encode(texts), 128):
        logits = model(
            input_ids=torch.from_numpy(batch.input_ids).to(device),
            attention_mask=torch.from_numpy(batch.attention_mask).to(device),
        ).logits
        out[batch.indices] = logits.float().cpu().numpy()
    model.train()
    return out


def dev_logits(
    model: Any, encoder: Encoder, dev: dict[str, data.Dataset], device: str
) -> dict[str, npt.NDArray[np.float32]]:
    return {name: predict_logits(model, encoder, ds.texts, device) for name, ds in dev.items()}


@dataclass
class Plan:
    """One stage's training data, tokenised and batched; `soft` holds teacher logits when distilling."""

    epochs: list[data.Dataset]
    encoded: list[list[list[int]]]
    batches: list[list[list[int]]]
    total: int
    soft: list[npt.NDArray[np.float32]] | None = None


def make_plan(
    args: argparse.Namespace, encoder: Encoder, mix: corpus.Corpus, quota: dict[str, int], epochs: float
) -> Plan:
    n_epochs = math.ceil(epochs)
    datasets = [corpus.epoch_mix(mix, quota, seed=args.seed * 1000 + e) for e in range(n_epochs)]
    encoded = [encoder.encode(ep.texts) for ep in datasets]
    rng = random.Random(args.seed)
    batches = [length_grouped_batches([len(x) for x in enc], args.batch_size, rng) for enc in encoded]
    total = int(sum(len(b) for b in batches) * epochs / n_epochs)
    if args.max_steps:
        total = min(total, args.max_steps)
    return Plan(datasets, encoded, batches, total)


def fit(
    stage: str,
    model: Any,
    tokenizer: Any,
    plan: Plan,
    dev: dict[str, data.Dataset],
    args: argparse.Namespace,
    ckpt_dir: Path,
    device: str,
    *,
    lr: float,
) -> dict[str, Any]:
    """Train `model` on `plan`, evaluating every --eval-every steps; the best checkpoint by
    domain-balanced dev score (corpus.dev_report) is saved to ckpt_dir/stage/best.
    Returns its scores and history."""
    from tqdm import tqdm

    encoder = Encoder(tokenizer, args.max_length)
    counts = Counter(plan.epochs[0].labels)
    freq = np.array([counts[i] / len(plan.epochs[0]) for i in range(len(LABELS))])
    weights = (1.0 / freq) ** args.class_weight_power
    weights = weights / (weights * freq).sum()  # keeps the average loss scale at 1
    log.info("%s: class counts %s, loss weights %s", stage, dict(counts), np.round(weights, 3).tolist())
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32, device=device))

    optimizer = adamw(list(model.named_parameters()), lr, args.weight_decay)
    scheduler = linear_warmup_decay(optimizer, int(plan.total * args.warmup), plan.total)
    out_dir = ckpt_dir / stage
    best: dict[str, Any] = {"dev_score": -1.0}
    history: list[dict[str, Any]] = []
    step, started = 0, time.time()

    def evaluate_and_keep() -> None:
        logits = dev_logits(model, encoder, dev, device)
        scores = corpus.dev_report(dev, logits)
        scores.update(
            step=step,
            epoch=round(step / max(1, len(plan.batches[0])), 3),
            minutes=(time.time() - started) / 60,
        )
        history.append(scores)
        improved = scores["dev_score"] > best["dev_score"]
        log.info(
            "%s eval step %d: %s%s",
            stage,
            step,
            corpus.brief(scores),
            "  (best so far, saved)" if improved else "",
        )
        if improved:
            best.update(scores)
            model.save_pretrained(out_dir / "best")
            tokenizer.save_pretrained(out_dir / "best")
            (out_dir / "best.json").write_text(json.dumps(best, indent=2) + "\n", encoding="utf-8")

    model.train()
    bar = tqdm(total=plan.total, desc=stage, unit="step", dynamic_ncols=True)
    running, seen = 0.0, 0
    for epoch, (batches, enc, ep) in enumerate(zip(plan.batches, plan.encoded, plan.epochs, strict=True)):
        for idx in batches:
            if step >= plan.total:
                break
            ids, mask = padded(enc, idx, encoder.pad_id)
            labels = torch.tensor([ep.labels[i] for i in idx], device=device)
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            loss = loss_fn(logits, labels)
            if plan.soft is not None:
                teacher = torch.from_numpy(plan.soft[epoch][idx]).to(device)
                loss = (1 - args.distil_alpha) * loss + args.distil_alpha * distillation_loss(
                    logits, teacher, args.temperature
                )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            running += loss.item()
            seen += 1
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix(loss=f"{running / seen:.3f}", epoch=epoch)
                log.info(
                    "%s step %d/%d epoch %d loss %.4f lr %.2e",
                    stage,
                    step,
                    plan.total,
                    epoch,
                    running / seen,
                    scheduler.get_last_lr()[0],
                )
                running, seen = 0.0, 0
            if step % args.eval_every == 0:
                evaluate_and_keep()
        if step >= plan.total:
            break
    bar.close()
    if not history or history[-1]["step"] != step:
        evaluate_and_keep()
    log.info("%s done in %.1f min; best %s", stage, (time.time() - started) / 60, best)
    return {"best": best, "history": history, "checkpoint": str(out_dir / "best")}


def distillation_loss(logits: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teacher || student) on temperature-softened distributions, scaled by T² (Hinton et al.)
    so its gradients stay comparable to the cross-entropy term's as T changes."""
    student = torch.nn.functional.log_softmax(logits / temperature, dim=-1)
    target = torch.nn.functional.softmax(teacher / temperature, dim=-1)
    loss = torch.nn.functional.kl_div(student, target, reduction="batchmean")
    return loss * temperature**2


def shrink(teacher: Any, keep: list[int]) -> Any:
    """A copy of a fine-tuned BERT classifier with only the encoder layers in `keep`: the
    student starts from the teacher's own weights, not from scratch."""
    import copy

    layers = teacher.bert.encoder.layer
    if not keep or any(i < 0 or i >= len(layers) for i in keep) or sorted(set(keep)) != keep:
        raise SystemExit(f"--keep-layers must be increasing layer numbers below {len(layers)}, got {keep}")
    student = copy.deepcopy(teacher)
    student.bert.encoder.layer = torch.nn.ModuleList([student.bert.encoder.layer[i] for i in keep])
    student.config.num_hidden_layers = len(keep)
    return student


def soft_targets(
    teacher: Any, tokenizer: Any, plan: Plan, args: argparse.Namespace, device: str
) -> list[npt.NDArray[np.float32]]:
    """Teacher logits for every text of every epoch, computed once per distinct text."""
    unique = sorted({text for ep in plan.epochs for text in ep.texts})
    log.info("teacher logits for %d distinct texts", len(unique))
    logits = predict_logits(teacher, Encoder(tokenizer, args.max_length), unique, device)
    row = {text: i for i, text in enumerate(unique)}
    return [logits[[row[t] for t in ep.texts]] for ep in plan.epochs]
