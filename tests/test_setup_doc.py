"""Setups: one document for links, files, ``NNVisu(setup=...)``, ``save``/``load`` and presets."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_server import cli

from nnvisu import NNVisu, handle_message, setup_doc, widget_file
from nnvisu.classroom import CONTROLS
from nnvisu.server.preset import ELEMENT_ID

MINIMAL = {"format": "nnvisu-setup", "version": 1}


def test_a_minimal_setup_is_the_default_playground() -> None:
    doc = setup_doc.parse(MINIMAL)
    assert doc["config"]["hidden_layers"] == [4, 4] and doc["config"]["optimizer"] == "sgd"
    assert doc["dataset"]["name"] == "circle" and doc["points"] is None
    assert doc["pace"] == setup_doc.DEFAULT_PACE
    assert doc["classroom"] == {"hidden": [], "lock_data": False}
    assert doc["trained"] is None
    # The widget's defaults are the page's: a default widget is the minimal setup.
    assert NNVisu().to_setup(trained=False) == doc


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"format": "other"}, "not an nnvisu setup"),
        ({"version": 2}, "version 2; this nnvisu reads version 1"),
        ({"extra": 1}, r"unknown key\(s\) \['extra'\]"),
        ({"config": {"learning_rate": -1}}, r"config\.learning_rate must be"),
        ({"config": {"hidden_layer": [3]}}, "hidden_layer"),
        ({"dataset": {"name": "nope"}}, "dataset.name must be one of circle"),
        ({"dataset": {"noise": 3}}, r"dataset\.noise"),
        ({"dataset": {"name": "xor", "num_classes": 3}}, "out of range for 'xor'"),
        ({"config": {"problem": "regression"}}, "does not fit dataset 'circle'"),
        ({"points": [{"x": 0, "y": 0, "label": 5}]}, r"points\[0\]\.label"),
        ({"points": "abc"}, "points must be a list"),
        ({"view": {"log_scale": "yes"}}, "view.log_scale must be true or false"),
        ({"pace": {"rate": "fast"}}, "pace.rate must be one of 'step', 'epoch'"),
        ({"pace": {"step_size": "max"}}, "pace.step_size must be one of"),
        ({"classroom": {"hidden": ["nope"]}}, "unknown control name"),
        ({"trained": {"network": {}}}, "trained: missing keys"),
    ],
)
def test_bad_setups_are_named(change: dict[str, Any], match: str) -> None:
    with pytest.raises(setup_doc.SetupError, match=match):
        setup_doc.parse({**MINIMAL, **change})


def test_a_link_round_trips_and_a_damaged_one_is_refused() -> None:
    doc = setup_doc.parse({**MINIMAL, "config": {"learning_rate": 0.1}, "pace": {"rate": "max"}})
    link = setup_doc.to_link(doc, "http://example.org/class/")
    assert link.startswith("http://example.org/class/#setup=")
    assert setup_doc.read(link) == doc
    with pytest.raises(setup_doc.SetupError, match="damaged or cut short"):
        setup_doc.from_link(link[: len(link) * 2 // 3])
    with pytest.raises(setup_doc.SetupError, match="damaged or cut short"):
        setup_doc.from_link(link[:-3] + "!!!")
    with pytest.raises(setup_doc.SetupError, match="no #setup= part"):
        setup_doc.from_link("http://example.org/#other=1")


def test_a_share_link_opens_the_same_points_and_initial_weights() -> None:
    teacher = NNVisu("spiral", n=120, num_classes=3, seed=5, hidden_layers=[6, 3],
                     learning_rate=0.1, hide=["optimizer"], lock_data=True)  # fmt: skip
    teacher.pace, teacher.step_size = "step", "10_epochs"
    teacher.view = {**teacher.view, "log_scale": True, "discretize": True}
    initial = teacher.network
    teacher.train(steps=20)  # a link carries the setup, not the run
    link = teacher.share_link("http://127.0.0.1:8765/")
    student = NNVisu(setup=link)
    assert student.data == teacher.data and student.network == initial
    assert student.config == teacher.config and student.view == teacher.view
    assert (student.pace, student.step_size) == ("step", "10_epochs")
    assert student.classroom == {"hidden": ["optimizer"], "lock_data": True}
    assert student.metrics["global_step"] == 0
    # The generator's points travel as its settings: the link stays short.
    assert setup_doc.from_link(link)["points"] is None and len(link) < 1000


def test_points_drawn_by_hand_travel_in_the_link() -> None:
    w = NNVisu(None)
    w.set_data([[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6]], [0, 1, 1])
    student = NNVisu(setup=w.share_link())
    assert student.data == w.data and student.network == w.network


def test_save_writes_a_setup_that_load_and_setup_both_open(tmp_path: Path) -> None:
    w = NNVisu("moons", n=50, seed=2)
    w.train(steps=30)
    w.save(tmp_path / "lesson.json")
    doc = json.loads((tmp_path / "lesson.json").read_text())
    assert doc["format"] == "nnvisu-setup" and doc["trained"]["metrics"]["global_step"] == 30
    for loaded in (NNVisu.load(tmp_path / "lesson.json"), NNVisu(setup=tmp_path / "lesson.json")):
        assert loaded.network == w.network and loaded.history == w.history
        assert loaded.timeline == w.timeline and loaded.data == w.data


def test_setup_takes_no_other_argument_and_bad_sources_are_named(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"takes no other argument, got \['n', 'hidden_layers'\]"):
        NNVisu(setup=MINIMAL, n=10, hidden_layers=[3])
    with pytest.raises(ValueError, match="cannot read the setup file"):
        NNVisu(setup=tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(ValueError, match="bad.json is not an nnvisu setup"):
        NNVisu(setup=str(tmp_path / "bad.json"))


def test_pace_traits_validate() -> None:
    w = NNVisu(n=20)
    assert (w.pace, w.step_size) == ("10_epochs", "epoch")
    w.pace = "max"
    with pytest.raises(ValueError, match="pace must be one of 'step', 'epoch', '10_epochs', 'max'"):
        w.pace = "fastest"
    with pytest.raises(ValueError, match="step_size must be one of"):
        w.step_size = "max"


def test_older_widget_files_still_load(tmp_path: Path) -> None:
    w = NNVisu("moons", n=30)
    state = {name: getattr(w, name) for name in widget_file.TRAITS}
    widget_file.write(tmp_path / "old.json", state)
    assert NNVisu.load(tmp_path / "old.json").network == w.network


# The server's classroom mode.
def preset_of(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=30) as response:
        page = response.read().decode()
    found = re.search(rf'<script type="application/json" id="{ELEMENT_ID}">(.*?)</script>', page)
    assert found, "the page carries no preset"
    return dict(json.loads(found.group(1)))


@pytest.mark.slow
def test_server_serves_the_preset_with_hide_and_lock_added(tmp_path: Path) -> None:
    lesson = NNVisu("xor", n=80, hidden_layers=[3], hide=["dropout"])
    lesson.save(tmp_path / "lesson.json")
    args = ("--preset", str(tmp_path / "lesson.json"), "--hide", "optimizer", "l2", "--lock-data")
    with cli(*args) as (_, url):
        preset = preset_of(url)
    assert preset["dataset"]["name"] == "xor" and preset["config"]["hidden_layers"] == [3]
    assert preset["classroom"] == {"hidden": ["dropout", "optimizer", "l2"], "lock_data": True}
    assert preset["trained"]["network"] == lesson.network


@pytest.mark.slow
def test_hide_and_lock_work_without_a_file_and_no_flag_means_no_preset() -> None:
    with cli("--hide", "timeline", "--lock-data") as (_, url):
        preset = preset_of(url)
    assert preset["classroom"] == {"hidden": ["timeline"], "lock_data": True}
    assert preset["dataset"] == setup_doc.DEFAULT_DATASET
    with cli() as (_, url), urllib.request.urlopen(url, timeout=30) as response:
        assert ELEMENT_ID not in response.read().decode()


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("--hide", "optimiser"), "unknown control name.*'optimiser'; valid names: " + CONTROLS[0]),
        (("--preset", "/nonexistent/lesson.json"), "cannot read the setup file"),
    ],
)
@pytest.mark.slow
def test_bad_classroom_options_stop_the_server_with_a_clear_message(
    args: tuple[str, ...], match: str
) -> None:
    proc = subprocess.run([sys.executable, "-m", "nnvisu.server", "--port", "0", *args],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 2
    assert re.search(match, proc.stderr), proc.stderr


# Pace: the protocol gives a snapshot every k steps.
def test_snapshot_steps_gives_one_snapshot_every_k_steps_as_single_requests_would() -> None:
    w = NNVisu(n=60, batch_size=10)
    base = {"type": "train_step", "network": w.network, "data": w.data}
    reply = handle_message({**base, "config": {**w.config, "steps": 12}, "snapshot_steps": 3})
    assert [s["global_step"] for s in reply["snapshots"]] == [3, 6, 9]
    one = handle_message({**base, "config": {**w.config, "steps": 6}})
    for got, want in zip(reply["snapshots"][1]["network"]["weights"], one["network"]["weights"],
                         strict=True):  # fmt: skip
        np.testing.assert_allclose(got, want, atol=1e-6)
    too_many = handle_message({**base, "config": {**w.config, "steps": 1000}, "snapshot_steps": 1})
    assert too_many["type"] == "error" and too_many["field"] == "snapshot_steps"
    assert "at most 500 per request" in too_many["message"]
