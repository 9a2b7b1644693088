"""The TypeScript catalog and grid.wat's codes are what Python generates (compared, not written)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from nnvisu import _codegen

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_generated_files_are_what_python_generates() -> None:
    stale = _codegen.stale(ROOT)
    assert not stale, f"{stale} differ from what Python generates: run python -m nnvisu._codegen"


def test_the_check_reports_a_stale_file_and_writes_nothing(tmp_path: Path) -> None:
    for path in _codegen.render(ROOT):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / path)
    assert _codegen.stale(tmp_path) == []
    catalog = tmp_path / _codegen.CATALOG
    edited = catalog.read_text(encoding="utf-8").replace('"relu"', '"relu6"', 1)
    catalog.write_text(edited, encoding="utf-8")
    assert _codegen.stale(tmp_path) == [_codegen.CATALOG]
    assert catalog.read_text(encoding="utf-8") == edited  # checking wrote nothing


def test_the_command_line_check_passes_on_this_checkout_without_writing() -> None:
    before = {path: (ROOT / path).stat().st_mtime_ns for path in _codegen.render(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "nnvisu._codegen", "--check"],
                          capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {path: (ROOT / path).stat().st_mtime_ns for path in before} == before


def test_the_catalog_carries_every_table() -> None:
    text = _codegen.render_catalog()
    for name in ("ACTIVATION_NAMES", "ACTIVATION_INFO", "ACTIVATION_FNS", "OPTIMIZER_NAMES",
                 "OPTIMIZER_INFO", "FEATURE_NAMES", "LIMITS", "CONFIG_DEFAULTS", "CONFIG_RANGES",
                 "GENERATE_DEFAULTS", "GENERATE_RANGES", "DATASETS", "DATASET_DEFAULTS",
                 "VIEW_DEFAULTS", "PACES", "CONTROLS", "DATA_CONTROLS"):  # fmt: skip
        assert f"export const {name}" in text
