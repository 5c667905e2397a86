"""`grumble import`: a collect run from a file. The file is read row by row (sources/tabular.py) and
stored in chunks through the same path as a source's pages, so edits and reopened cases work alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from tqdm import tqdm

from monitor.collect.saving import import_batch
from monitor.mention import Mention
from monitor.sources.tabular import ImportBatch, iter_file
from monitor.store.corrections import record_labels

IMPORT_CHUNK = 1000  # rows per transaction: large enough to be fast, small enough to bound memory


@dataclass
class ImportReport(ImportBatch):
    """What import_file did: rows read and new ones stored (its `mentions` stay empty)."""

    read: int = 0
    new: int = 0
    labelled: int = 0  # labels from the `label` column kept as corrections

    def stored(self, read: int, new: int) -> None:
        self.read += read
        self.new += new


def import_file(
    engine: Engine,
    watch: str,
    path: Path,
    *,
    columns: Mapping[str, str] | None = None,
    source: str | None = None,
    file_format: str | None = None,
    chunk: int = IMPORT_CHUNK,
    progress: bool = False,
) -> ImportReport:
    """Store the file's good rows in transactions of `chunk` rows, so memory stays bounded and an
    interrupted import keeps the chunks it finished (a rerun adds the rest: stored ids are skipped). A
    row whose stored mention has other content now is an edit, as from a source (collect/saving.py)."""
    report = ImportReport()
    total = path.stat().st_size if path.exists() else 0
    with tqdm(
        total=total, unit="B", unit_scale=True, desc=f"importing {path.name}", disable=not progress
    ) as bar:

        def advance(position: int) -> None:
            bar.update(position - bar.n)

        pending: list[Mention] = []
        for mention in iter_file(
            path, report, columns=columns, source=source, file_format=file_format, progress=advance
        ):
            pending.append(mention)
            if len(pending) >= chunk:
                report.stored(len(pending), import_batch(engine, watch, pending).new)
                report.labelled += _keep_labels(engine, report, pending, path)
                pending = []
        if pending:
            report.stored(len(pending), import_batch(engine, watch, pending).new)
            report.labelled += _keep_labels(engine, report, pending, path)
        bar.update(total - bar.n)
    return report


def _keep_labels(engine: Engine, report: ImportReport, stored: list[Mention], path: Path) -> int:
    """The `label` column of rows just stored, kept as people's corrections (store/corrections.py)."""
    labels = {
        key: report.labels.pop(key)
        for key in ((m.source, m.external_id) for m in stored)
        if key in report.labels
    }
    return record_labels(engine, labels, actor=f"import:{path.name}"[:128]) if labels else 0
