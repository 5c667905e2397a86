"""`python -m bench.score` end to end, small: the bundled model alone, then `score_pending` on SQLite."""

from __future__ import annotations

import re

import pytest

from bench.score import main


def test_score_bench_prints_the_model_alone_end_to_end_and_the_ratio(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["--count", "24", "--batch-size", "8"])
    out = capsys.readouterr().out
    alone = re.search(r"model alone \((onnx|torch), 1 thread\): (\d+) texts/s \((\d+)/CPU s\)", out)
    whole = re.search(r"score_pending end to end, SQLite: (\d+) mentions/s \((\d+)/CPU s\)", out)
    ratio = re.search(r"end to end / model alone: (\d+)% wall, (\d+)% CPU \(target 80%\)", out)
    assert alone and whole and ratio, out
    assert int(alone.group(2)) > 0 and int(whole.group(1)) > 0 and int(ratio.group(2)) > 0
