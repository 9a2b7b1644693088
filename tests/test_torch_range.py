"""The torch range nnvisu promises is the one tested: the README says what pyproject requires."""

from __future__ import annotations

import re
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def minimum(text: str, pattern: str, where: str) -> tuple[int, int]:
    found = re.findall(pattern, text)
    assert len(found) == 1, f"{where} must state one torch minimum, found {found}"
    major, minor = found[0]
    return int(major), int(minor)


def test_the_readme_states_the_torch_range_pyproject_requires_and_this_torch_meets_it() -> None:
    pyproject = minimum((ROOT / "pyproject.toml").read_text(encoding="utf-8"),
                        r'"torch>=(\d+)\.(\d+)"', "pyproject.toml")  # fmt: skip
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert minimum(readme, r"requires torch >= (\d+)\.(\d+)", "README.md") == pyproject
    assert minimum(readme, r"tested with torch (\d+)\.(\d+)", "README.md") == pyproject
    installed = tuple(int(part) for part in re.findall(r"\d+", torch.__version__)[:2])
    assert installed >= pyproject, f"torch {torch.__version__} is older than {pyproject}"
