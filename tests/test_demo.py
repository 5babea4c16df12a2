"""Ready for a demo: presets, checkpoint save/restore, history export, share links and presentation mode.

Under Streamlit's AppTest (no browser) where a user action is involved (choosing a preset, uploading a file,
toggling presentation mode), and directly on the pure functions and the Session otherwise. Uploads go through
AppTest's file uploader, so the uploader's callback, the file_id bookkeeping and the widget updates are exercised
as a browser would; malformed files must leave the model, its history and the settings exactly as they were.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest

from carrylab.session import STATE_KEY, Session, checkpoint_file_name
from carrylab.settings import (
    CONFIG_SETTINGS,
    CUSTOM_PRESET,
    DEFAULTS,
    PRESETS,
    config_from_settings,
    matching_preset,
    parse_query_params,
    preset_settings,
    share_url,
    to_query_params,
    with_preset_base,
)
from carrylab.views.files import eval_history_frame, history_file_name, step_history_frame
from carrylab.views.presets import VIEW_TABS
from carrylab.views.registry import VIEWS
from rnn_core.checkpoint import checkpoint_bytes, load_checkpoint
from rnn_core.history import StepLog
from rnn_core.metrics import evaluate
from rnn_core.tasks import Task
from rnn_core.train import TrainConfig, Trainer
from tests.plotly_spec import chart_keys
from tests.test_dashboard import messages, run

ROOT = Path(__file__).resolve().parents[1]
# A configuration no preset has, with non-default values in settings a preset must put back to their defaults.
CUSTOM_QUERY = {"n_hidden": "5", "seed": "7", "clip": "2.5", "loss": "bce", "eval_every": "50", "steps_per_click": "20"}


def session_of(at) -> Session:
    return at.session_state[STATE_KEY]


def params_equal(a: Trainer, b: Trainer) -> bool:
    return a.model.params.keys() == b.model.params.keys() and all(
        np.array_equal(a.model.params[k], b.model.params[k]) for k in a.model.params
    )


def history_equal(a: Trainer, b: Trainer) -> bool:
    (sa, ea), (sb, eb) = a.steps_log.arrays(), b.steps_log.arrays()
    ca, cb = a.evals.state(), b.evals.state()
    return (
        np.array_equal(sa, sb)
        and np.array_equal(ea, eb)
        and ca.keys() == cb.keys()
        and all(np.array_equal(ca[k], cb[k], equal_nan=True) for k in ca)
    )


# -- presets ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", list(PRESETS))
def test_choosing_a_preset_sets_its_whole_configuration_and_trains(dashboard_app, key):
    dashboard_app.query_params.update(CUSTOM_QUERY)
    at = run(dashboard_app)
    assert session_of(at).settings["preset"] == CUSTOM_PRESET
    assert at.selectbox(key="preset").value == CUSTOM_PRESET

    run(at.selectbox(key="preset").set_value(key))
    session = session_of(at)
    expected = PRESETS[key].make_config()
    assert session.trainer.config == expected
    assert config_from_settings(session.settings) == expected  # the settings say what the model is
    assert session.settings["preset"] == key and at.selectbox(key="preset").value == key
    assert session.trainer.step == 0
    for name in ("n_hidden", "seed", "clip", "eval_every"):  # the widgets show the preset's values
        widget = at.number_input(key=name)
        assert widget.value == session.settings[name]
    assert at.selectbox(key="loss").value == expected.loss
    assert at.session_state["view"] == VIEW_TABS[PRESETS[key].view]
    assert session.settings["steps_per_click"] == 20  # display settings are kept
    assert any(PRESETS[key].label in m for m in messages(at, "info"))
    assert at.query_params.get("preset", "seed_post") == key

    run(at.button(key="train").click())
    assert session_of(at).trainer.step == 20
    assert session_of(at).trainer.config == expected  # training does not touch the configuration


def test_the_trask_preset_uses_its_own_legacy_generator(dashboard_app):
    state = np.random.get_state()
    at = run(dashboard_app)
    run(at.selectbox(key="preset").set_value("trask"))
    trainer = session_of(at).trainer
    assert isinstance(trainer.rng, np.random.RandomState)
    assert trainer.rng is not np.random.mtrand._rand
    reference = Trainer(PRESETS["trask"].make_config())
    assert params_equal(trainer, reference)  # RandomState(0): the tutorial's initial weights
    after = np.random.get_state()
    assert after[0] == state[0] and np.array_equal(after[1], state[1]) and after[2:] == state[2:]


def test_long_numbers_opens_the_longer_numbers_tab(dashboard_app):
    at = run(dashboard_app)
    run(at.selectbox(key="preset").set_value("long_numbers"))
    assert at.session_state["view"] == "Longer numbers"
    assert "length_chart" in chart_keys(at)
    assert "error_chart" not in chart_keys(at)  # the training tab is closed


def test_view_hints_name_real_tabs():
    labels = {label for label, _ in VIEWS}
    assert {p.view for p in PRESETS.values()} <= VIEW_TABS.keys()
    assert set(VIEW_TABS.values()) <= labels


def test_a_changed_setting_turns_the_preset_into_custom(dashboard_app):
    at = run(dashboard_app)
    run(at.selectbox(key="preset").set_value("fast"))
    run(at.number_input(key="n_hidden").set_value(9))
    assert session_of(at).settings["preset"] == CUSTOM_PRESET
    assert at.selectbox(key="preset").value == CUSTOM_PRESET
    assert at.query_params["preset"] == CUSTOM_PRESET
    run(at.number_input(key="n_hidden").set_value(8))  # back to the preset's configuration: named again
    assert session_of(at).settings["preset"] == "fast"


@pytest.mark.parametrize(
    ("query", "expected_config", "expected_preset"),
    [
        ({"preset": "trask"}, PRESETS["trask"].make_config(), "trask"),
        ({"preset": "fast", "seed": "3"}, PRESETS["fast"].make_config(seed=3), CUSTOM_PRESET),
        (
            {"n_hidden": "8", "optimizer": "adam", "eta": "0.05", "batch_size": "32"},
            PRESETS["fast"].make_config(),
            "fast",
        ),
        ({"preset": "nonsense"}, TrainConfig(), "seed_post"),
    ],
)
def test_a_link_with_a_preset_opens_that_configuration(dashboard_app, query, expected_config, expected_preset):
    dashboard_app.query_params.update(query)
    at = run(dashboard_app)
    session = session_of(at)
    assert session.trainer.config == expected_config
    assert session.settings["preset"] == expected_preset
    assert at.selectbox(key="preset").value == expected_preset


@pytest.mark.parametrize("key", list(PRESETS))
def test_preset_settings_round_trip_through_the_url(key):
    settings = {**DEFAULTS, **preset_settings(key)}
    assert config_from_settings(settings) == PRESETS[key].make_config()
    params = to_query_params(settings)
    parsed, notes = parse_query_params(params)
    assert notes == []
    back = with_preset_base(parsed, given=list(params))
    assert config_from_settings(back) == PRESETS[key].make_config()
    assert back["preset"] == key


@pytest.mark.parametrize("stop", [True, False])
def test_a_link_to_the_tiny_preset_keeps_its_stop_when_solved(stop):
    """The Tiny preset turns Stop when solved on (issue 13.16); a link says so only when it differs from that."""
    settings = {**DEFAULTS, **preset_settings("tiny"), "stop_when_solved": stop}
    params = to_query_params(settings)
    assert ("stop_when_solved" in params) == (not stop)
    parsed, notes = parse_query_params(params)
    assert notes == [] and with_preset_base(parsed, given=list(params))["stop_when_solved"] is stop
    assert preset_settings("seed_post")["stop_when_solved"] is False


def test_matching_preset_prefers_the_named_one_and_falls_back_to_custom():
    assert matching_preset(DEFAULTS, "long_numbers") == "long_numbers"  # same config as seed_post
    assert matching_preset(DEFAULTS, "trask") == "seed_post"
    assert matching_preset({**DEFAULTS, "n_hidden": 5}, "seed_post") == CUSTOM_PRESET
    assert matching_preset({**DEFAULTS, "n_hidden": 0}) == CUSTOM_PRESET  # invalid: no preset, no exception


def test_an_unknown_preset_changes_nothing():
    session = Session()
    session.trainer.train(5)
    before = session.trainer
    session.apply_preset("bogus")
    assert session.trainer is before and session.trainer.step == 5
    assert session.notices[0].level == "error"


# -- checkpoints --------------------------------------------------------------------------------------------------
def _trained_app(dashboard_app, query=None, clicks=1):
    dashboard_app.query_params.update({"steps_per_click": "60", **(query or {})})
    at = run(dashboard_app)
    for _ in range(clicks):
        run(at.button(key="train").click())
    return at


def test_an_uploaded_checkpoint_restores_parameters_history_and_settings(dashboard_app):
    from streamlit.testing.v1 import AppTest

    source = _trained_app(dashboard_app, {"n_hidden": "12", "optimizer": "adam", "eta": "0.01", "eval_every": "20"})
    original = session_of(source).trainer
    data = session_of(source).checkpoint_bytes()

    target = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30)
    target.query_params["steps_per_click"] = "60"
    at = run(target)
    uploader = at.get("file_uploader")[0]
    assert uploader.key == "upload_checkpoint" and uploader.allowed_type == [".npz"]
    run(uploader.upload(checkpoint_file_name(original), data))
    session = session_of(at)
    loaded = session.trainer
    assert loaded is not original
    assert loaded.config == original.config and loaded.step == original.step == 60
    assert params_equal(loaded, original) and history_equal(loaded, original)
    assert config_from_settings(session.settings) == original.config
    assert at.number_input(key="n_hidden").value == 12 and at.selectbox(key="optimizer").value == "adam"
    assert at.query_params["n_hidden"] == "12" and at.query_params["eval_every"] == "20"
    assert "Loaded checkpoint: add, 8 bits, step 60." in messages(at, "success")

    # the file stays in the uploader: later reruns must not load it again (that would undo this training)
    run(at.button(key="train").click())
    assert session_of(at).trainer.step == 120
    run(at)
    assert session_of(at).trainer is session.trainer and session.trainer.step == 120

    # and the loaded run continues exactly as the original would have
    original.train(60)
    assert params_equal(session.trainer, original) and history_equal(session.trainer, original)


def _npz_members(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _npz(members: dict, **kwargs) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **members, **kwargs)
    return buffer.getvalue()


def _malformed(kind: str, good: bytes) -> bytes:
    members = _npz_members(good)
    if kind == "not a zip":
        return b"This is not a checkpoint, just text.\n" * 10
    if kind == "truncated":
        return good[: len(good) // 2]
    if kind == "empty":
        return b""
    if kind == "pickled object array":
        members["W_rec"] = np.array([{"evil": "pickle"}, None], dtype=object)
        buffer = io.BytesIO()
        np.savez(buffer, **members)  # np.save pickles object arrays
        return buffer.getvalue()
    if kind == "wrong shapes":
        members["W_rec"] = np.zeros((3, 5))
        return _npz(members)
    if kind == "NaN weights":
        members["W_out"] = members["W_out"].copy()
        members["W_out"][0, 0] = np.nan
        return _npz(members)
    if kind == "extra member":
        return _npz(members, payload=np.zeros(3))
    raise AssertionError(kind)


MALFORMED = ["not a zip", "truncated", "empty", "pickled object array", "wrong shapes", "NaN weights", "extra member"]


@pytest.mark.parametrize("kind", MALFORMED)
def test_a_malformed_upload_shows_an_error_and_changes_nothing(dashboard_app, kind):
    good = checkpoint_bytes(Trainer(TrainConfig(n_hidden=7)))
    bad = _malformed(kind, good)
    at = _trained_app(dashboard_app, {"n_hidden": "6"})
    session = session_of(at)
    trainer, settings = session.trainer, dict(session.settings)
    params = {k: v.copy() for k, v in trainer.model.params.items()}
    steps, error = trainer.steps_log.arrays()

    run(at.get("file_uploader")[0].upload("bad.npz", bad))
    errors = messages(at, "error")
    assert len(errors) == 1 and errors[0].startswith("Could not load bad.npz:")
    assert "The model was not changed." in errors[0]
    assert session_of(at) is session and session.trainer is trainer and trainer.step == 60
    assert all(np.array_equal(trainer.model.params[k], v) for k, v in params.items())
    assert all(np.array_equal(a, b) for a, b in zip(trainer.steps_log.arrays(), (steps, error)))
    assert session.settings == settings
    assert at.number_input(key="n_hidden").value == 6
    run(at.button(key="train").click())  # and the page keeps working
    assert session.trainer.step == 120


@pytest.mark.parametrize("kind", MALFORMED)
def test_session_load_rejects_malformed_bytes_without_side_effects(kind):
    session = Session({"n_hidden": 6})
    session.train(10)
    before = session.trainer
    version = session.model_version
    assert not session.load_checkpoint_bytes(_malformed(kind, checkpoint_bytes(Trainer(TrainConfig()))), "x.npz")
    assert session.trainer is before and session.model_version == version and before.step == 10
    assert session.notices[-1].level == "error" and len(session.notices[-1].text) < 600


def test_cli_checkpoints_open_in_the_dashboard(tmp_path):
    path = tmp_path / "cli.npz"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnn_core",
            "train",
            "--preset",
            "tiny",
            "--steps",
            "40",
            "--save",
            str(path),
            "--quiet",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    session = Session()
    assert session.load_checkpoint_bytes(path.read_bytes(), path.name), session.notices
    assert session.trainer.step == 40
    assert session.trainer.config == PRESETS["tiny"].make_config()
    assert session.settings["preset"] == "tiny"
    reference = load_checkpoint(path).to_trainer()
    assert params_equal(session.trainer, reference)


def test_dashboard_checkpoints_open_in_the_cli(tmp_path):
    session = Session({"n_bits": 4, "n_hidden": 6, "seed": 2})
    session.train(150)
    path = tmp_path / checkpoint_file_name(session.trainer)
    path.write_bytes(session.checkpoint_bytes())
    done = subprocess.run(
        [sys.executable, "-m", "rnn_core", "eval", str(path), "--bits", "4", "6", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert (report["op"], report["trained_bits"], report["step"]) == ("add", 4, 150)
    assert report["widths"] == [4, 6]
    # at 4 bits all 64 pairs are evaluated: the CLI must see exactly the dashboard's model
    assert report["random"][0] == evaluate(session.trainer.model, Task("add", 4).exhaustive()).accuracy


def test_checkpoint_file_name_says_what_it_holds():
    trainer = Trainer(TrainConfig(op="sub", n_bits=6, n_hidden=3))
    trainer.train(7)
    assert checkpoint_file_name(trainer) == "carrylab_sub_6bit_step7.npz"
    assert history_file_name(trainer, "errors") == "carrylab_sub_6bit_step7_errors.csv"


def test_download_buttons_exist_and_are_disabled_while_playing(dashboard_app):
    at = run(dashboard_app)
    keys = {"download_checkpoint", "download_step_history", "download_eval_history"}
    buttons = {b.key: b for b in at.get("download_button")}
    assert keys <= buttons.keys() and not any(buttons[k].disabled for k in keys)
    run(at.button(key="play").click())
    buttons = {b.key: b for b in at.get("download_button")}
    assert all(buttons[k].disabled for k in keys)


# -- history as CSV -----------------------------------------------------------------------------------------------
def test_history_csvs_have_one_row_per_logged_point():
    trainer = Trainer(TrainConfig(n_bits=6, n_hidden=5, eval_every=100))
    trainer.train(250)
    steps = pd.read_csv(io.BytesIO(step_history_frame(trainer).to_csv(index=False).encode()))
    assert list(steps.columns) == ["step", "error", "steps_averaged"]
    assert len(steps) == 250 and steps["steps_averaged"].sum() == 250
    np.testing.assert_allclose(steps["error"], trainer.steps_log.arrays()[1])

    evals = eval_history_frame(trainer)
    assert evals["step"].tolist() == [0, 100, 200]
    assert list(evals.columns[:2]) == ["step", "accuracy"]
    assert [f"bit_accuracy_{i}" for i in range(6)] == [c for c in evals.columns if c.startswith("bit_accuracy_")]
    np.testing.assert_allclose(evals[[f"bit_accuracy_{i}" for i in range(6)]], trainer.evals.array("bit_accuracy"))
    np.testing.assert_allclose(evals["accuracy"], trainer.evals.array("accuracy"))
    assert {"probe_accuracy", "saturation", "grad_norms_0", "grad_norms_5"} <= set(evals.columns)


def test_step_history_csv_counts_the_steps_of_downsampled_points():
    trainer = Trainer(TrainConfig(n_bits=4, n_hidden=3))
    trainer.train(11)
    small = StepLog(capacity=4)  # full after 4 points: pairs are merged
    small.extend(0, trainer.steps_log.arrays()[1])
    trainer.steps_log = small
    frame = step_history_frame(trainer)
    assert frame["steps_averaged"].sum() == 11
    assert frame["steps_averaged"].tolist() == [4, 4, 3]  # stride 4, then a partly filled point
    assert frame["step"].tolist() == [0, 4, 8]


# -- copy link ----------------------------------------------------------------------------------------------------
def test_the_copy_link_reproduces_the_settings(dashboard_app):
    dashboard_app.query_params.update({"preset": "mixed", "operand_a": "5", "demo_speed": "5"})
    at = run(dashboard_app)
    (box,) = [el for el in at.get("bidi_component") if el.proto.component_name == "carrylab.copy_link"]
    link = json.loads(box.proto.json)["url"]
    parts = urlsplit(link)
    assert parts.scheme in ("http", "https") and parts.netloc
    params = {k: v for k, v in parse_qs(parts.query).items()}
    assert params["preset"] == ["mixed"] and params["operand_a"] == ["5"] and params["demo_speed"] == ["5"]
    parsed, notes = parse_query_params(params)
    assert notes == []
    rebuilt = with_preset_base(parsed, given=list(params))
    session = session_of(at)
    assert {k: rebuilt[k] for k in CONFIG_SETTINGS} == {k: session.settings[k] for k in CONFIG_SETTINGS}
    assert rebuilt["operand_a"] == session.settings["operand_a"] == "5"


def test_share_url_drops_the_old_query_and_keeps_the_path():
    settings = {**DEFAULTS, "n_hidden": 9}
    assert share_url("https://demo.example/lab/?n_hidden=3#top", settings) == "https://demo.example/lab/?n_hidden=9"
    assert share_url(None, DEFAULTS) == "http://localhost:8501/"
    assert share_url("http://127.0.0.1:8501", settings) == "http://127.0.0.1:8501/?n_hidden=9"  # a path of its own


# -- presentation mode --------------------------------------------------------------------------------------------
def test_presentation_mode_hides_the_settings_and_keeps_the_controls(dashboard_app):
    dashboard_app.query_params.update({"presentation": "1", "n_hidden": "12"})
    at = run(dashboard_app)
    widget_keys = {w.key for kind in ("number_input", "selectbox", "file_uploader") for w in at.get(kind)}
    assert "upload_checkpoint" not in widget_keys and "batch_size" not in widget_keys and "optimizer" not in widget_keys
    assert not at.sidebar.children or all(not c.children for c in at.sidebar.children.values())
    assert {"step", "train", "play", "reset"} <= {b.key for b in at.button}
    assert at.select_slider(key="demo_speed").value == 20
    assert at.toggle(key="presentation").value is True
    assert len(at.tabs) == 0
    charts = chart_keys(at)
    assert {"error_chart", "hidden_heatmap", "carry_corr_chart", "state_space_chart", "length_chart"} <= charts
    assert "carry_hidden_chart" not in charts  # the 32-row heatmap once (the probe's), not twice
    assert any("stSidebar" in el.proto.body for el in at.get("html"))  # the CSS that hides the sidebar

    run(at.button(key="step").click())
    assert session_of(at).trainer.step == 1

    run(at.toggle(key="presentation").set_value(False))  # back: the sidebar returns with its values
    assert at.number_input(key="n_hidden").value == 12
    assert len(at.tabs) > 0
    assert session_of(at).trainer.step == 1  # leaving presentation mode does not touch the model
    assert "presentation" not in at.query_params


def test_presentation_toggle_goes_into_the_url_as_1(dashboard_app):
    at = run(dashboard_app)
    run(at.toggle(key="presentation").set_value(True))
    assert at.query_params["presentation"] == "1"
    assert "batch_size" not in {w.key for w in at.number_input}


def test_presentation_settings_change_the_learning_rate_hidden_units_seed_and_preset_in_place(dashboard_app):
    """Item 10: the few settings a demo changes sit in a popover next to the title, and act as in the sidebar."""
    dashboard_app.query_params.update({"presentation": "1"})
    at = run(dashboard_app)
    (popover,) = [p for p in at.get("popover") if p.proto.popover.label == "Settings"]
    inside = {w.key for kind in ("number_input", "selectbox") for w in popover.get(kind)}
    assert {"preset", "eta", "n_hidden", "seed", "steps_per_click"} <= inside
    run(at.number_input(key="eta").set_value(0.5))
    assert session_of(at).trainer.config.eta == 0.5 and at.toggle(key="presentation").value is True
    run(at.button(key="step").click())
    run(at.number_input(key="n_hidden").set_value(8))
    session = session_of(at)
    assert session.trainer.model.params["W_rec"].shape == (8, 8) and session.trainer.step == 0  # a new model
    assert session.settings["eta"] == 0.5 and at.query_params["n_hidden"] == "8"
    run(at.selectbox(key="preset").set_value("tiny"))
    session = session_of(at)
    assert session.settings["preset"] == "tiny" and session.trainer.config == PRESETS["tiny"].config
    assert at.toggle(key="presentation").value is True


def test_presentation_mode_plays_the_live_part_only(dashboard_app):
    dashboard_app.query_params.update({"presentation": "1", "demo_speed": "10"})
    at = run(dashboard_app)
    run(at.button(key="play").click())
    assert session_of(at).running
    run(at)  # a live frame (AppTest reruns the whole page)
    assert session_of(at).trainer.step > 0
    assert any("they update when you pause" in c.value for c in at.caption)
    run(at.button(key="play").click())  # Pause
    assert not session_of(at).running
    assert not any("they update when you pause" in c.value for c in at.caption)


# -- explanations -------------------------------------------------------------------------------------------------
def test_every_training_view_explains_itself(dashboard_app):
    at = run(dashboard_app)
    texts = [el.value for ex in at.expander if ex.label == "What am I looking at?" for el in ex.markdown]
    assert len(texts) == 3  # error chart, bit table, heatmap
    joined = " ".join(texts)
    assert "0.5 * sum over the bits of (y_t - target_t)^2" in joined
    assert "h_t = tanh(x_t W_in + h_(t-1) W_rec + b_rec)" in joined
    assert all("What to look for" in t for t in texts)


def test_the_page_offers_every_preset_of_every_cell():
    """The cell is a setting: every declared preset, the GRU's and the LSTM's included, round-trips through the
    page's settings to its own configuration (a gated preset does not silently become an Elman run)."""
    from rnn_core.presets import PRESETS as ALL_PRESETS

    assert set(PRESETS) == set(ALL_PRESETS) and {"gru", "lstm"} <= set(PRESETS)
    for key in PRESETS:
        assert config_from_settings(preset_settings(key)) == PRESETS[key].make_config()
    assert config_from_settings(preset_settings("lstm")).cell == "lstm"
