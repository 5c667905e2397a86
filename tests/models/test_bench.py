"""`python -m bench.model` end to end, small: fresh worker processes, interleaved rounds, one table."""

from __future__ import annotations

from pathlib import Path

from bench.model import main


def test_bench_runs_each_system_per_round_and_reports_ratios(tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    text = main(
        ["--n", "40", "--repeats", "1", "--rounds", "2", "--systems", "default,vader", "--out", str(out)]
    )
    assert out.read_text(encoding="utf-8") == text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    header, default, vader = (row.strip("|").split("|") for row in rows)
    assert [c.strip() for c in header][:6] == [
        "system",
        "backend",
        "texts/s",
        "range",
        "x default",
        "ratio range",
    ]
    assert default[1].strip() == "onnx" and default[4].strip() == "1.00"
    assert vader[1].strip() == "lexicon" and float(vader[4]) > 1  # a lexicon outruns a transformer
    assert float(default[2]) > 0 and float(default[7]) < 600  # peak MB
    rounds = [line for line in text.splitlines() if line.startswith("- round ")]
    assert len(rounds) == 2 and all("default " in r and "vader " in r for r in rounds)
