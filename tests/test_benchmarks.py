"""The benchmark scripts still run and print what they promise (benchmarks/README.md).

Short runs, checked for shape and for what does not depend on the machine's speed (a
request's size, the page receiving steps at all); the timing targets themselves are read off
the scripts' full runs, never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run(script: str, *args: str, timeout: float = 240) -> Any:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_engine_benchmark_compares_the_protocol_with_plain_torch() -> None:
    out = run("engine.py", "--quick")
    assert out["cases"], out
    for case in out["cases"]:
        assert case["plain_torch_steps_per_s"] > 0
        assert case["engine_in_process_steps_per_s"] > 0
        assert case["engine_eager_steps_per_s"] > 0 and case["eager_over_torchscript"] > 0


def test_load_benchmark_serves_every_client() -> None:
    out = run("load.py", "--clients", "2", "--seconds", "1")
    assert out["server"]["exit_code"] == 0
    (only,) = out["runs"]
    assert only["clients"] == 2 and only["steps_per_s"] > 0


def test_classroom_benchmark_reports_every_learner_fairness_and_efficiency() -> None:
    out = run("load.py", "--classroom", "--learners", "1,3", "--seconds", "1", "--warmup", "0.5")
    room = out["classroom"]
    assert room["server"] == {**room["server"], "workers": 2, "exit_code": 0}
    # 1 and 3 learners, plus the reference: one learner per worker process.
    assert [r["learners"] for r in room["runs"]] == [1, 2, 3]
    reference = room["runs"][1]
    assert reference["learners_per_worker"] == [1, 1] and reference["efficiency"] == 1.0
    for r in room["runs"]:
        assert r["errors"] == {}, r
        assert r["epochs_per_s"]["min"] > 0, r  # every learner got steps trained
        assert r["epochs_per_s"]["min"] <= r["epochs_per_s"]["median"] <= r["epochs_per_s"]["max"]
        assert 0 < r["fairness"] <= 1 and 0 < r["fairness_within_worker"] <= 1
        assert r["efficiency"] > 0
        groups = r["each_learner_epochs_per_s_by_worker"]
        assert [len(g) for g in groups] == r["learners_per_worker"]
        assert sum(r["learners_per_worker"]) == r["learners"]


@pytest.mark.timeout(900)
def test_fault_benchmark_runs_every_attack_with_a_normal_learner() -> None:
    sys.path.insert(0, str(BENCHMARKS))
    import attacks

    args = ["--faults", "--clients", "1", "--seconds", "0.5", "--fault-seconds", "0.5"]
    out = run("load.py", *args, timeout=840)  # a fresh server per attack: ~5 s each
    assert [f["attack"] for f in out["faults"]] == list(attacks.ATTACKS)
    for fault in out["faults"]:
        learner = fault["normal_learner"]
        assert set(learner) >= {"p50_ms", "p99_ms", "replies_per_s", "longest_wait_s"}, fault
        assert fault["rss_mb"]["before"] > 0 and fault["rss_mb"]["after"] > 0, fault
        assert isinstance(fault["healthy_after"], bool)
        assert "the attack failed" not in fault["outcome"], fault
    reference = out["faults"][0]
    assert reference["healthy_after"] and reference["normal_learner"]["errors"] == {}


@pytest.mark.browser
def test_frame_benchmark_times_the_maps_and_the_chart() -> None:
    out = run("frame.py", "--frames", "5")
    for name in (
        "decision_map_100",
        "diagram_plus_decision_map",
        "all_node_maps_and_decision_at_100",
    ):
        assert out["maps"][name]["frames"] == 5 and out["maps"][name]["median_ms"] > 0, name
    assert out["chart_2000_entries"]["steps"] == 100_000


@pytest.mark.browser
def test_link_benchmark_compares_a_slow_link_and_sizes_a_1000_point_request() -> None:
    out = run("link.py", "--seconds", "1", "--warmup", "0.5")
    tfp = out["tfp"]
    for link in ("direct", "slow"):
        assert tfp[link]["steps_per_s"] > 0 and "page_errors" not in tfp[link], tfp[link]
        assert tfp[link]["display_lag"]["max_s"] >= 0
    assert tfp["slow_over_direct_steps"] > 0
    # The README's figure: a steady-state request with 1,000 points is at most 15 KB (packed).
    assert 0 < out["request_bytes_1000_points"]["max"] <= 15_000


@pytest.mark.browser
@pytest.mark.jupyter
def test_browser_benchmark_measures_both_hosts_and_plain_torch() -> None:
    # Two setups: the second notebook runs only once its own panel is ready.
    out = run("browser.py", "--seconds", "1", "--warmup", "0.5", "--setups", "tfp,relu6x8")
    assert out["failed"] == [], out
    assert out["in_process"]["tfp"]["plain_torch_steps_per_s"] > 0
    for host in ("standalone", "jupyter"):
        for setup in ("tfp", "relu6x8"):
            page = out[host][setup]
            assert "page_errors" not in page, page
            assert page["steps_per_s"] > 0 and page["map_frames_per_s"] > 0, page
            assert page["step_regressions"] == 0, page  # the shown step never goes back
        row = out["targets"][f"{host}/tfp"]
        assert row["target"] == {"epochs_per_s": 300, "map_fps": 55}
        assert row["page_steps_over_plain_torch"] > 0


def test_browser_benchmark_keeps_the_results_of_the_setups_that_did_not_fail() -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import browser
    finally:
        sys.path.remove(str(BENCHMARKS))
    good = {"epochs_per_s": 320.0, "map_frames_per_s": 58.0, "steps_per_s": 8000}
    result = {
        "standalone": {"tfp": good, "relu6x8": browser.failure(RuntimeError("page crashed"))},
        "jupyter": {"error": "TimeoutError: JupyterLab did not start"},
    }
    assert result["standalone"]["relu6x8"] == {"error": "RuntimeError: page crashed"}
    assert browser.failed(result) == ["standalone/relu6x8", "jupyter"]
    assert list(browser.targets(result)) == ["standalone/tfp"]  # the failures have no row


def test_watch_benchmark_compares_a_watched_loop_with_the_plain_one() -> None:
    out = run("watch.py", "--quick")
    assert out["plain_steps_per_s"]["best"] > 0 and out["watched_steps_per_s"]["best"] > 0
    assert out["evaluations_per_run"] >= 1 and out["bytes_sent_per_run"] > 0
    assert 0 < out["update_share_median"] < 1
