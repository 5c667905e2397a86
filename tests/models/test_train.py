"""`python -m models.training.train` end to end on a small synthetic data set: teacher, distilled student,
bundle, and the bundle loading through the default (ONNX) backend. Plus the distillation parts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from models import SentimentModel
from models.training.loop import distillation_loss, shrink
from models.training.tiny import build_tiny_model
from models.training.train import main

TOPICS = ["the app", "your support", "the delivery", "this phone", "the new update", "my order"]
TEMPLATES = {
    0: ["I hate {t}, worst ever", "{t} is broken again and nobody helps", "so angry about {t}"],
    1: ["{t} arrives on tuesday", "has anyone tried {t} yet", "{t} was mentioned in the news"],
    2: ["I love {t}, brilliant", "{t} is great, thank you", "really happy with {t}"],
}


def write_dataset(root: Path) -> Path:
    tweets = root / "tweeteval_sentiment"
    tweets.mkdir(parents=True)
    rows = [(tpl.format(t=t), label) for label, tpls in TEMPLATES.items() for tpl in tpls for t in TOPICS]
    for split, part in (("train", rows), ("val", rows[::3])):
        (tweets / f"{split}_text.txt").write_text("\n".join(text for text, _ in part) + "\n")
        (tweets / f"{split}_labels.txt").write_text("\n".join(str(label) for _, label in part) + "\n")
    sst = root / "sst2"
    sst.mkdir()
    reviews = [
        (f"a {adj} film about {t} that I would {verb} to anyone at all", label)
        for adj, verb, label in (("dreadful", "never recommend", 0), ("wonderful", "gladly recommend", 1))
        for t in TOPICS
    ]
    for split, part in (("train", reviews), ("dev", reviews[:2])):
        lines = ["sentence\tlabel", *(f"{text}\t{label}" for text, label in part)]
        (sst / f"{split}.tsv").write_text("\n".join(lines) + "\n")
    brands = root / "sanders_brand_tweets"
    brands.mkdir()
    names = ("negative", "neutral", "positive")
    lines = ["text\tlabel", *(f"@acme {text}\t{names[label]}" for text, label in rows)]
    (brands / "data.tsv").write_text("\n".join(lines) + "\n")
    return root


def train(tmp_path: Path, name: str, *extra: str) -> Path:
    bundle = tmp_path / f"bundle-{name}"
    main(
        [
            "--data-dir",
            str(tmp_path / "data"),
            "--work-dir",
            str(tmp_path / "work"),
            "--bundle-dir",
            str(bundle),
            "--run-name",
            name,
            "--batch-size",
            "8",
            "--max-steps",
            "3",
            "--eval-every",
            "2",
            "--sets",
            "tweeteval_sentiment,sanders_brand_tweets,sst2",
            "--per-epoch",
            "40",
            "--epochs",
            "1",
            "--student-epochs",
            "1",
            *extra,
        ]
    )
    return bundle


def test_two_stage_run_writes_a_loadable_distilled_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRUMBLE_MODEL_CACHE", str(tmp_path / "cache"))
    write_dataset(tmp_path / "data")
    bundle = train(tmp_path, "two-stage", "--keep-layers", "0,5")

    config = json.loads((bundle / "config.json").read_text())
    meta = json.loads((bundle / "grumble.json").read_text())
    assert config["num_hidden_layers"] == 2
    assert meta["layers"] == 2
    assert meta["training"]["keep_layers"] == [0, 5]
    # Paths on the trainer's machine stay out of the shipped file.
    assert not {"teacher", "work_dir", "data_dir", "bundle_dir"} & set(meta["training"])
    assert sorted(p.name for p in bundle.iterdir()) == [
        "config.json",
        "grumble.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    log = (tmp_path / "work" / "runs" / "two-stage" / "train.log").read_text()
    assert "teacher eval step" in log and "student eval step" in log
    assert (tmp_path / "work" / "checkpoints" / "two-stage" / "teacher" / "best").is_dir()

    model = SentimentModel.load(bundle)
    assert model.backend_name == "onnx"
    scores = model.predict(["I hate the app, worst ever", "", "really happy with my order"])
    assert [s.label for s in scores][1] == "neutral"
    assert all(abs(s.negative + s.neutral + s.positive - 1) < 1e-4 for s in scores)


def test_same_seed_same_weights(tmp_path: Path) -> None:
    write_dataset(tmp_path / "data")
    teacher = build_tiny_model(tmp_path / "teacher")
    first = train(tmp_path, "a", "--teacher", str(teacher), "--keep-layers", "0")
    second = train(tmp_path, "b", "--teacher", str(teacher), "--keep-layers", "0")
    digest = [hashlib.sha256((b / "model.safetensors").read_bytes()).hexdigest() for b in (first, second)]
    assert digest[0] == digest[1]
    third = train(tmp_path, "c", "--teacher", str(teacher), "--keep-layers", "0", "--seed", "14")
    assert hashlib.sha256((third / "model.safetensors").read_bytes()).hexdigest() != digest[0]


def test_init_continues_a_trained_model_in_one_stage(tmp_path: Path) -> None:
    write_dataset(tmp_path / "data")
    start = build_tiny_model(tmp_path / "start")
    bundle = train(tmp_path, "continued", "--init", str(start))
    meta = json.loads((bundle / "grumble.json").read_text())
    assert meta["layers"] == 1 and meta["languages"] == ["en"]
    assert [row["set"] for row in meta["data"]] == ["tweeteval_sentiment", "sanders_brand_tweets", "sst2"]
    summary = json.loads((tmp_path / "work" / "runs" / "continued" / "summary.json").read_text())
    assert "tune" in summary and "teacher" not in summary and "student" not in summary
    assert set(meta["dev"]["uncalibrated"]["domains"]) == {"tweets", "brand tweets", "film reviews"}
    before = hashlib.sha256((start / "model.safetensors").read_bytes()).hexdigest()
    assert hashlib.sha256((bundle / "model.safetensors").read_bytes()).hexdigest() != before


def test_empty_keep_layers_ships_the_teacher(tmp_path: Path) -> None:
    write_dataset(tmp_path / "data")
    teacher = build_tiny_model(tmp_path / "teacher")
    bundle = train(tmp_path, "plain", "--teacher", str(teacher), "--keep-layers", "")
    assert json.loads((bundle / "grumble.json").read_text())["layers"] == 1


def test_shrink_keeps_the_chosen_layers_weights(tmp_path: Path) -> None:
    from transformers import AutoModelForSequenceClassification, BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=100, hidden_size=16, num_hidden_layers=4, num_attention_heads=2, intermediate_size=32
    )
    teacher = BertForSequenceClassification(config)
    student = shrink(teacher, [1, 3])
    assert len(student.bert.encoder.layer) == 2 and student.config.num_hidden_layers == 2
    chosen = [teacher.bert.encoder.layer[i] for i in (1, 3)]
    for mine, theirs in zip(student.bert.encoder.layer, chosen, strict=True):
        for a, b in zip(mine.parameters(), theirs.parameters(), strict=True):
            assert torch.equal(a, b) and a.data_ptr() != b.data_ptr()  # a copy, not shared
    assert len(teacher.bert.encoder.layer) == 4
    student.save_pretrained(tmp_path / "s")
    reloaded = AutoModelForSequenceClassification.from_pretrained(tmp_path / "s")
    assert reloaded.config.num_hidden_layers == 2
    for bad in ([], [4], [2, 1], [1, 1]):
        with pytest.raises(SystemExit, match="keep-layers"):
            shrink(teacher, bad)


def test_distillation_loss_is_zero_only_when_student_matches_teacher() -> None:
    teacher = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    assert distillation_loss(teacher.clone(), teacher, 2.0).item() == pytest.approx(0.0, abs=1e-6)
    # Shifting all logits of a row by a constant changes nothing (same distribution).
    assert distillation_loss(teacher + 5.0, teacher, 2.0).item() == pytest.approx(0.0, abs=1e-6)
    assert distillation_loss(teacher.flip(-1), teacher, 2.0).item() > 0.1


def test_bad_arguments_are_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--keep-layers", "first,last", "--work-dir", str(tmp_path)])
    assert "expected layer numbers like 0,3,4,5, got 'first,last'" in capsys.readouterr().err
    write_dataset(tmp_path / "data")
    with pytest.raises(SystemExit, match="not a model checkpoint"):
        train(tmp_path, "x", "--teacher", str(tmp_path / "nowhere"))
    with pytest.raises(SystemExit, match="not a model checkpoint"):
        train(tmp_path, "y", "--init", str(tmp_path / "nowhere"))
    with pytest.raises(SystemExit, match="unknown sentiment set 'tweets'"):
        train(tmp_path, "z", "--sets", "tweets")
