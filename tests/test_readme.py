"""The README a newcomer follows: every step can be typed as written, and the frontend table
names test files that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
FRONTENDS = ["JupyterLab", "Notebook 7", "marimo", "Voila", "VS Code", "Colab"]


def test_no_placeholder_a_reader_cannot_fill() -> None:
    assert not re.search(r"<(URL|url|repo|your)[^>]*>", README)


def test_the_two_commands_are_there() -> None:
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    assert "python -m nnvisu.server\n" in blocks
    assert "python -m pytest\n" in blocks


def test_install_steps_for_torch_node_and_the_wheel() -> None:
    assert "pip install torch --index-url https://download.pytorch.org/whl/cpu" in README
    assert "python -m build" in README and "pip install dist/nnvisu-*.whl" in README
    assert "Node ≥ 20.19" in README or "Node must be 20.19 or newer" in README


def test_the_frontend_table_covers_every_frontend_with_real_test_files() -> None:
    start = README.index("| frontend | what it needs | covered by the test suite |")
    table = README[start : README.index("\n\n", start)]
    rows = table.splitlines()[2:]
    assert [row.split("|")[1].strip().split(" ≥")[0] for row in rows] == FRONTENDS
    named = re.findall(r"`(tests/test_\w+\.py)`", "\n".join(rows))
    assert len(named) == len(FRONTENDS)
    assert [path for path in named if not (ROOT / path).exists()] == []
    assert "(docs/frontends.md)" in README


def test_troubleshooting_names_the_errors_newcomers_meet() -> None:
    section = README[README.index("## Troubleshooting") :]
    section = section[: section.index("\n## ", 1)]
    for words in [
        "widget does not show",
        "No Jupyter kernel for language 'python' found",
        "output.enable_custom_widget_manager()",
        "nvidia-",
    ]:
        assert words in section, words
