"""Packaging metadata: one version source that everything follows, a license, a changelog."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself depends on tomli before 3.11
    import tomli as tomllib

import nnvisu
from nnvisu import _version, handle_message

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_version_is_written_once_and_setuptools_reads_it() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    dynamic = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "nnvisu._version.__version__"}
    assert nnvisu.__version__ == _version.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]\d+|rc\d+|\.dev\d+)?", nnvisu.__version__)


def test_the_frontend_package_has_the_same_version() -> None:
    package = json.loads((ROOT / "js" / "package.json").read_text())
    assert package["version"] == nnvisu.__version__, "set js/package.json's version to match"


def test_the_info_reply_reports_the_package_version() -> None:
    assert handle_message({"type": "info"})["version"] == nnvisu.__version__


def test_no_module_looks_the_version_up_again() -> None:
    sources = (ROOT / "src" / "nnvisu").rglob("*.py")
    assert not [p.name for p in sources if "importlib.metadata" in p.read_text()]


def test_license_and_changelog() -> None:
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.startswith("MIT License")
    assert "Copyright (c) 2026 the nnvisu authors" in license_text
    # setuptools reads an SPDX license expression and license-files from version 77 on.
    [backend] = PYPROJECT["build-system"]["requires"]
    assert re.fullmatch(r"setuptools>=(\d+)", backend) and int(backend.split(">=")[1]) >= 77
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog  # where the next changes are written
    assert f"## [{nnvisu.__version__}]" in changelog
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]  # SPDX instead
