import csv
import io
from pathlib import Path

import pytest

from monitor.sources.tabular import read_file
from monitor.spreadsheet_guard import guard, unguard
from monitor.surface.export import write_csv


@pytest.mark.parametrize(
    "value",
    ["-alice", "=SUM(A1)", "+1", "@home", "\tx", "'-already", "''=two", "'plain", "plain", "", "don't", "-"],
)
def test_import_undoes_exactly_the_guard_export_adds(value: str) -> None:
    assert unguard(guard(value)) == value


def test_a_formula_cell_is_written_as_text_and_read_back_as_it_was(tmp_path: Path) -> None:
    rows = [
        {"id": 1, "external_id": "e1", "text": '=HYPERLINK("x")', "author": "-alice", "created_at": None},
        {"id": 2, "external_id": "e2", "text": "'-quoted on purpose", "author": "bob", "created_at": None},
    ]
    out = io.StringIO()
    write_csv(rows, out)
    written = list(csv.DictReader(io.StringIO(out.getvalue())))
    # What a spreadsheet sees: text, never a formula.
    assert [row["text"] for row in written] == ['\'=HYPERLINK("x")', "''-quoted on purpose"]
    assert written[0]["author"] == "'-alice"
    path = tmp_path / "export.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    mentions = read_file(path).mentions
    assert [(m.text, m.author) for m in mentions] == [
        ('=HYPERLINK("x")', "-alice"),
        ("'-quoted on purpose", "bob"),
    ]
