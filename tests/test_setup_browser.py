"""Pace, share links, Export/Import and classroom presets on the standalone page (Chromium)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port
from playwright.sync_api import Browser, Page, expect

from nnvisu import NNVisu, handle_message, setup_doc

pytestmark = pytest.mark.browser

MAP = "Data and decision map"


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    """Start ``python -m nnvisu.server`` with extra arguments; returns its URL."""
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> str:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "nnvisu.server", "--port", str(port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        procs.append(proc)
        assert proc.stdout is not None
        url = f"http://127.0.0.1:{port}/"
        assert url in proc.stdout.readline()
        return url

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    contexts = []

    def open_(url: str, *, width: int = 1280) -> Page:
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        expect(page.get_by_role("application", name=MAP)).to_be_visible(timeout=30_000)
        return page

    yield open_
    for context in contexts:
        context.close()


def stored(page: Page, part: str) -> dict[str, Any]:
    """A part of the page's saved state, once it is written."""
    page.wait_for_function(f"() => localStorage.getItem('nnvisu:{part}') !== null")
    values: dict[str, Any] = json.loads(
        page.evaluate(f"() => localStorage.getItem('nnvisu:{part}')")
    )["values"]
    return values


def step_count(page: Page) -> int:
    return int(page.locator(".nnv-metric-value").first.inner_text().replace(",", ""))


def choose_pace(page: Page, label: str) -> None:
    page.get_by_role("radio", name=label, exact=True).check(force=True)


# Pace.
@pytest.mark.parametrize(("pace", "per_frame"), [("1 step", 1), ("1 epoch", 13)])
def test_the_slowest_paces_deliver_their_rate(
    serve: Callable[..., str], open_page: Callable[..., Page], pace: str, per_frame: int
) -> None:
    page = open_page(serve())
    page.get_by_role("combobox", name="Batch size").select_option("8")  # 100 points: 13 an epoch
    choose_pace(page, pace)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => Number(document.querySelector('.nnv-metric-value')"
                           ".textContent.replace(/,/g, '')) > 0")  # fmt: skip
    # Count the display frames the page draws while the counter moves.
    frames, steps = page.evaluate(
        """async () => {
            const read = () => Number(document.querySelector('.nnv-metric-value')
                .textContent.replace(/,/g, ''));
            const first = read();
            let frames = 0;
            const end = performance.now() + 3000;
            await new Promise((done) => {
                const tick = () => {
                    frames++;
                    if (performance.now() < end) requestAnimationFrame(tick);
                    else done();
                };
                requestAnimationFrame(tick);
            });
            return [frames, read() - first];
        }"""
    )
    page.get_by_role("button", name="Pause").click()
    assert frames > 30
    # One step (or epoch) per frame: neither faster nor much slower than the display.
    assert 0.75 * frames * per_frame <= steps <= 1.1 * frames * per_frame, (frames, steps)


def test_pace_and_step_size_persist_and_max_is_one_click(
    serve: Callable[..., str], open_page: Callable[..., Page]
) -> None:
    page = open_page(serve())
    expect(page.get_by_role("radio", name="10 epochs", exact=True)).to_be_checked()  # default
    choose_pace(page, "Max")
    page.get_by_role("combobox", name="Step size").select_option("step")
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.locator(".nnv-metric-value").first).to_have_text("1")
    page.wait_for_function("() => (localStorage.getItem('nnvisu:extra') || '').includes('max')")
    page.reload()
    expect(page.get_by_role("radio", name="Max", exact=True)).to_be_checked(timeout=30_000)
    expect(page.get_by_role("combobox", name="Step size")).to_have_value("step")


# Share links.
def share_link(page: Page) -> str:
    page.get_by_role("button", name="Share").click()
    field = page.locator("#nnvisu-share-link")
    expect(field).to_have_value(re.compile(r"#setup="))
    link = field.input_value()
    assert page.evaluate("() => navigator.clipboard.readText()") == link
    return link


def test_a_share_link_reproduces_points_and_initial_weights_in_a_fresh_browser(
    serve: Callable[..., str], open_page: Callable[..., Page]
) -> None:
    url = serve()
    teacher = open_page(url)
    teacher.get_by_role("combobox", name="Dataset").select_option("spiral")
    teacher.get_by_role("combobox", name="Learning rate").select_option("0.1")
    choose_pace(teacher, "1 epoch")
    teacher.wait_for_function(
        "() => (localStorage.getItem('nnvisu:data') || '').includes('spiral')"
    )
    link = share_link(teacher)
    # Python reads the page's link: the same setup, the same points and initial weights.
    doc = setup_doc.from_link(link)
    assert doc["dataset"]["name"] == "spiral" and doc["points"] is None
    assert doc["config"]["learning_rate"] == 0.1 and doc["pace"]["rate"] == "epoch"
    notebook = NNVisu(setup=link)
    student = open_page(link)  # a new context: a fresh browser with nothing saved
    expect(student.get_by_role("radio", name="1 epoch", exact=True)).to_be_checked()
    assert stored(student, "data")["data"] == notebook.data
    assert stored(student, "network")["network"] == notebook.network
    assert stored(student, "config")["config"]["learning_rate"] == 0.1
    assert "#setup=" not in student.url  # opened once: a reload shows the saved work


def test_points_drawn_by_hand_travel_in_the_link(
    serve: Callable[..., str], open_page: Callable[..., Page]
) -> None:
    url = serve()
    teacher = open_page(url)
    teacher.get_by_role("button", name="Clear").click()
    box = teacher.get_by_role("application", name=MAP).bounding_box()
    assert box is not None
    for fx, fy in ((0.3, 0.3), (0.7, 0.6), (0.5, 0.8)):
        teacher.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    teacher.wait_for_function(
        "() => JSON.parse(localStorage.getItem('nnvisu:data')).values.data.length === 3"
    )
    drawn = stored(teacher, "data")["data"]
    link = share_link(teacher)
    assert setup_doc.from_link(link)["points"] == drawn
    student = open_page(link)
    assert stored(student, "data")["data"] == drawn


def test_a_damaged_link_says_so_loads_the_defaults_and_keeps_saved_work(
    serve: Callable[..., str], open_page: Callable[..., Page]
) -> None:
    url = serve()
    page = open_page(url)
    page.get_by_role("combobox", name="Dataset").select_option("xor")
    page.wait_for_function("() => (localStorage.getItem('nnvisu:data') || '').includes('xor')")
    link = share_link(page)
    page.goto(link[: len(link) * 2 // 3])
    expect(page.locator("#nnvisu-banner")).to_contain_text("damaged or cut short", timeout=30_000)
    expect(page.get_by_role("application", name=MAP)).to_be_visible()
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value("circle")  # defaults
    assert stored(page, "data")["dataset"]["name"] == "xor"  # nothing overwritten
    page.reload()
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value("xor", timeout=30_000)


def test_opening_a_link_over_saved_work_asks_first(
    serve: Callable[..., str], open_page: Callable[..., Page]
) -> None:
    url = serve()
    page = open_page(url)
    link = share_link(page)  # the default setup
    page.get_by_role("combobox", name="Dataset").select_option("gauss")
    page.wait_for_function("() => (localStorage.getItem('nnvisu:data') || '').includes('gauss')")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.goto(link)
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value("gauss", timeout=30_000)
    page.once("dialog", lambda dialog: dialog.accept())
    page.goto(link)
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value("circle", timeout=30_000)


# Export / Import.
def test_export_is_a_file_nnvisu_load_reads_and_import_brings_it_back(
    serve: Callable[..., str], open_page: Callable[..., Page], tmp_path: Path
) -> None:
    url = serve()
    page = open_page(url)
    choose_pace(page, "Max")
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.locator(".nnv-metric-value").first).to_have_text("1")
    # The saved state is written after the display: wait for the step's network to be stored.
    page.wait_for_function(
        "() => JSON.parse(localStorage.getItem('nnvisu:network') || 'null')"
        "?.values?.optimizer_state?.global_step === 1"
    )
    with page.expect_download() as download:
        page.get_by_role("button", name="Export").click()
    path = tmp_path / "lesson.json"
    download.value.save_as(path)
    w = NNVisu.load(path)
    assert w.network == stored(page, "network")["network"] and w.pace == "max"
    assert w.metrics["global_step"] == 1
    # Import it into another browser.
    other = open_page(url)
    other.once("dialog", lambda dialog: dialog.accept())
    other.locator("#nnvisu-import-file").set_input_files(path)
    expect(other.locator(".nnv-metric-value").first).to_have_text("1", timeout=30_000)
    assert stored(other, "network")["network"] == w.network
    # A file that is not a setup is refused with a reason.
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    other.locator("#nnvisu-import-file").set_input_files(tmp_path / "bad.json")
    expect(other.locator("#nnvisu-banner")).to_contain_text("bad.json is not an nnvisu setup")


def test_start_over_asks_first(serve: Callable[..., str], open_page: Callable[..., Page]) -> None:
    page = open_page(serve())
    page.get_by_role("combobox", name="Dataset").select_option("xor")
    page.wait_for_function("() => (localStorage.getItem('nnvisu:data') || '').includes('xor')")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Start over").click()
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value("xor")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Start over").click()
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value("circle", timeout=30_000)


# Classroom mode.
def test_a_preset_starts_every_visitor_hides_and_locks_and_a_link_cannot_undo_it(
    serve: Callable[..., str], open_page: Callable[..., Page], tmp_path: Path
) -> None:
    lesson = NNVisu("xor", n=80, seed=3, hidden_layers=[3], hide=["dropout"])
    lesson.save(tmp_path / "lesson.json")
    url = serve("--preset", str(tmp_path / "lesson.json"), "--hide", "optimizer", "--lock-data")
    page = open_page(url)
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value("xor")
    assert stored(page, "data")["data"] == lesson.data
    assert stored(page, "network")["network"] == lesson.network
    expect(page.get_by_role("combobox", name="Optimizer")).to_be_hidden()
    expect(page.get_by_role("combobox", name="Dropout")).to_be_hidden()
    expect(page.get_by_role("combobox", name="Dataset")).to_be_disabled()
    # Locked tools look locked and say why.
    expect(page.get_by_role("radio", name="Add points")).to_be_disabled()
    expect(page.get_by_role("note")).to_contain_text("The points are locked for this lesson")
    # A link made elsewhere, showing everything and unlocked, cannot take that away.
    free = NNVisu("circle", n=30).share_link(url)
    page.once("dialog", lambda dialog: dialog.accept())
    page.goto(free)
    expect(page.get_by_role("application", name=MAP)).to_be_visible(timeout=30_000)
    expect(page.get_by_role("combobox", name="Optimizer")).to_be_hidden()
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value("xor")
    expect(page.get_by_role("combobox", name="Dataset")).to_be_disabled()
    assert stored(page, "data")["data"] == lesson.data


# No surprises.
def test_log_scale_persists(serve: Callable[..., str], open_page: Callable[..., Page]) -> None:
    page = open_page(serve())
    box = page.get_by_role("checkbox", name="Log scale")
    expect(box).not_to_be_checked()
    box.check()
    page.wait_for_function("() => (localStorage.getItem('nnvisu:view') || '').includes("
                           "'\"log_scale\":true')")  # fmt: skip
    page.reload()
    expect(page.get_by_role("checkbox", name="Log scale")).to_be_checked(timeout=30_000)


def test_space_plays_and_pauses_anywhere_on_the_page_but_not_while_typing(
    serve: Callable[..., str], open_page: Callable[..., Page]
) -> None:
    page = open_page(serve())
    page.keyboard.press("Space")  # just loaded: nothing focused
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.mouse.click(5, 300)  # a click on the page's margin, nothing focusable there
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    page.locator("#nnvisu-share-link").evaluate("(el) => { el.parentElement.parentElement"
                                                ".hidden = false; el.focus(); }")  # fmt: skip
    page.keyboard.press("Space")  # typing in a field
    expect(page.get_by_role("button", name="Play")).to_be_visible()


def test_test_split_re_splits_hand_drawn_points_instead_of_regenerating(
    serve: Callable[..., str], open_page: Callable[..., Page]
) -> None:
    page = open_page(serve())
    page.get_by_role("button", name="Clear").click()
    box = page.get_by_role("application", name=MAP).bounding_box()
    assert box is not None
    spots = [(0.2 + 0.2 * (i % 4), 0.2 + 0.2 * (i // 4)) for i in range(12)]
    for fx, fy in spots:
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    page.wait_for_function(
        "() => JSON.parse(localStorage.getItem('nnvisu:data')).values.data.length === 12"
    )
    drawn = stored(page, "data")["data"]
    page.get_by_role("slider", name="Test split").evaluate(
        "(el) => { el.value = '0.25'; el.dispatchEvent(new Event('input')); "
        "el.dispatchEvent(new Event('change')); }"
    )
    page.wait_for_function(
        "() => JSON.parse(localStorage.getItem('nnvisu:data')).values.dataset.test_ratio === 0.25"
    )
    after = stored(page, "data")["data"]
    assert [(p["x"], p["y"], p["label"]) for p in after] == [
        (p["x"], p["y"], p["label"]) for p in drawn
    ]
    assert sum(p["test"] for p in after) == 3


def test_a_new_dataset_starts_a_fresh_network_and_the_numbers_agree(
    serve: Callable[..., str], open_page: Callable[..., Page]
) -> None:
    page = open_page(serve())
    choose_pace(page, "Max")
    page.get_by_role("combobox", name="Step size").select_option("10_epochs")
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.locator(".nnv-metric-value").first).to_have_text("10")
    page.get_by_role("combobox", name="Dataset").select_option("xor")
    expect(page.locator(".nnv-metric-value").first).to_have_text("0", timeout=30_000)
    page.wait_for_function(
        "() => JSON.parse(localStorage.getItem('nnvisu:progress')).values.history.length === 0"
    )
    config = stored(page, "config")["config"]
    fresh = handle_message({"type": "init_network", "config": config})["network"]
    page.wait_for_function(
        "(net) => JSON.stringify(JSON.parse(localStorage.getItem('nnvisu:network'))"
        ".values.network) === JSON.stringify(net)",
        arg=fresh,
    )


def test_on_a_narrow_screen_play_and_the_map_come_first(
    serve: Callable[..., str], open_page: Callable[..., Page]
) -> None:
    page = open_page(serve(), width=400)
    play = page.get_by_role("button", name="Play").bounding_box()
    map_box = page.get_by_role("application", name=MAP).bounding_box()
    settings = page.get_by_role("group", name="Training settings").bounding_box()
    assert play is not None and map_box is not None and settings is not None
    assert play["y"] < map_box["y"] < settings["y"]
    assert map_box["y"] < 500, map_box  # on the first screen, not 950 px down


def test_the_status_line_sits_next_to_play(
    serve: Callable[..., str], open_page: Callable[..., Page]
) -> None:
    page = open_page(serve())
    status = page.get_by_role("status").first
    expect(status).to_be_attached()
    assert status.evaluate("(el) => el.parentElement.classList.contains('nnv-header')")
