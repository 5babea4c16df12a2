"""What an upload may hold and what a download gives (issue 13, items 4-7).

- An uploaded checkpoint holds no more history than a trainer keeps (20,000 step-log points, 4,096 evaluation
  records, 64 snapshots within 8 MB): the crafted files of the issue are refused, and what loads is small.
- Weights are checked against the run's own dtype: 1e300 is a float64 but not a float32.
- Every run the app can hold can be saved and loaded back: at the step limit, after a divergence that logged an
  infinite spectral radius, and the largest model with every store full.
- A download is named for the step it holds, also when the run moved on after the button was drawn.

The crafted files are built by ``tests/fixtures/crafted_checkpoints.py``.
"""

from __future__ import annotations

import re
import tomllib
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from carrylab.session import Session
from rnn_core.checkpoint import MAX_CHECKPOINT_BYTES, CheckpointError, checkpoint_bytes, load_checkpoint
from rnn_core.train import MAX_STEP, TrainConfig, Trainer
from tests.fixtures import crafted_checkpoints as crafted

ROOT = Path(__file__).resolve().parents[1]


def peak_bytes(action) -> tuple[object, int]:
    """(action's result or the exception it raised, peak bytes traced while it ran; numpy reports its buffers)."""
    tracemalloc.start()
    try:
        result = action()
    except Exception as exc:  # noqa: BLE001 - returned for the caller to check
        result = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, peak


def run_state(session: Session) -> dict:
    """The parts of a session's run that a refused upload must leave alone."""
    trainer = session.trainer
    return {
        "trainer": id(trainer),
        "step": trainer.step,
        "theta": trainer.model.theta.copy(),
        "history": [a.copy() for a in trainer.steps_log.arrays()],
        "accuracy": np.array(trainer.evals.array("accuracy")),
    }


def assert_same_state(a: dict, b: dict) -> None:
    assert a["trainer"] == b["trainer"] and a["step"] == b["step"]
    np.testing.assert_array_equal(a["theta"], b["theta"])
    for x, y in zip(a["history"], b["history"]):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a["accuracy"], b["accuracy"])


@pytest.fixture
def trained_session() -> Session:
    session = Session()
    session.train(30)
    return session


# -- 4. no more history than a trainer keeps ---------------------------------------------------------------------
def test_the_issues_3_mb_file_with_a_million_records_is_refused_before_it_is_read():
    """Before: the 3.3 MB file loaded into about 760 MB (a million evaluation records as Python objects)."""
    data = crafted.huge_history()
    assert len(data) < 4 << 20
    result, peak = peak_bytes(lambda: load_checkpoint(data).to_trainer())
    assert isinstance(result, CheckpointError), result
    assert re.search(r"would expand to more than 67108864 bytes", str(result))
    assert peak < 16 << 20  # the file itself and the zip directory, not its contents


def test_the_issues_384_kb_file_with_1849_snapshots_is_refused():
    data = crafted.many_snapshots()
    assert 350_000 < len(data) < 400_000
    with pytest.raises(
        CheckpointError, match="snapshot store capacity is 1,849 snapshots, but a trainer keeps at most 64"
    ):
        load_checkpoint(data)


LIMITS = {
    # store: (builder arguments at the trainer's limit, one more, the message for one more)
    "step log": ({"points": 19_998}, {"points": 20_000}, "step log capacity is 20,002 points, .* at most 20,000"),
    "evaluation log": ({"evals": 4095}, {"evals": 4096}, "evaluation log capacity is 4,097 records, .* at most 4,096"),
    "snapshots": ({"snapshots": 64}, {"snapshots": 65}, "snapshot store capacity is 65 snapshots, .* at most 64"),
}


@pytest.mark.parametrize("store", sorted(LIMITS))
def test_each_store_loads_up_to_the_trainers_limit_and_is_refused_past_it(store):
    at_limit, over, message = LIMITS[store]
    arrays = crafted.fresh_arrays()
    points = max(at_limit.get("points", 0), 64)
    loaded = load_checkpoint(crafted.pack(crafted.with_history(arrays, **{"points": points, **at_limit})))
    assert loaded.to_trainer().step == points
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(crafted.pack(crafted.with_history(arrays, **{"points": points, **over})))


def test_a_large_models_snapshots_are_bounded_by_the_8_mb_budget():
    """256 hidden units, mixed operators (7 inputs): (256 + 1 + 7) x 256 + 257 = 67,841 parameters, 542,728 bytes
    per float64 snapshot: the trainer keeps 8 MiB // 542,728 = 15 of them."""
    arrays = crafted.fresh_arrays(n_hidden=256, op="mixed")
    assert arrays["snapshot_thetas"].shape[1] == 67_841
    assert load_checkpoint(crafted.pack(crafted.with_history(arrays, points=100, snapshots=15))).step == 100
    with pytest.raises(CheckpointError, match="snapshot store capacity is 16 snapshots, .* at most 15"):
        load_checkpoint(crafted.pack(crafted.with_history(arrays, points=100, snapshots=16)))


def test_a_file_with_every_store_full_loads_into_a_few_megabytes():
    """The most an upload can make a session hold (the issue measured 730 MB for the crafted file)."""
    data = crafted.pack(crafted.with_history(crafted.fresh_arrays(), points=19_998, evals=4095, snapshots=64))
    trainer, peak = peak_bytes(lambda: load_checkpoint(data).to_trainer())
    assert isinstance(trainer, Trainer), trainer
    assert trainer.evals.n == 4095 and len(trainer.snapshots.steps) == 64
    assert peak < 24 << 20


# -- 5. weights checked against the run's dtype ------------------------------------------------------------------
def test_weights_that_overflow_a_float32_run_are_refused():
    with pytest.raises(CheckpointError, match=r"parameter W_rec holds 1e\+300, which overflows float32"):
        load_checkpoint(crafted.float32_overflow())


@pytest.mark.parametrize("key", ["opt_m", "snapshot_thetas"])
def test_optimizer_state_and_snapshots_are_checked_against_the_runs_dtype(key):
    arrays = crafted.fresh_arrays(dtype="float32", optimizer="adam")
    value = arrays[key].astype(np.float64)
    value.flat[0] = -1e39  # float32's largest is about 3.4e38
    with pytest.raises(CheckpointError, match=rf"{key} holds -1e\+39, which overflows float32"):
        load_checkpoint(crafted.pack({**arrays, key: value}))


def test_the_same_weight_in_a_float64_run_loads():
    arrays = crafted.fresh_arrays()
    w_rec = arrays["W_rec"].copy()
    w_rec[0, 0] = 1e300
    assert load_checkpoint(crafted.pack({**arrays, "W_rec": w_rec})).params["W_rec"][0, 0] == 1e300


def test_an_overflowing_upload_leaves_the_current_run_alone(trained_session):
    before = run_state(trained_session)
    assert not trained_session.load_checkpoint_bytes(crafted.float32_overflow(), name="overflow.npz")
    [notice] = trained_session.notices
    assert notice.level == "error" and "overflows float32" in notice.text and "was not changed" in notice.text
    assert_same_state(before, run_state(trained_session))
    assert trained_session.train(1).steps_done == 1 and trained_session.trainer.step == 31


# -- 6. every run the app holds can be saved and loaded back -----------------------------------------------------
def test_a_run_at_the_step_limit_is_not_trained_past_it_and_stays_saveable():
    """Before: a file at step 2^62 loaded, one Step took it to 2^62 + 1, and the checkpoint could not be written."""
    session = Session()
    assert session.load_checkpoint_bytes(crafted.at_step(2**62), name="limit.npz"), session.notices
    assert MAX_STEP == 2**62
    outcome = session.train(1)
    assert outcome.steps_done == 0 and session.trainer.step == 2**62
    assert "at most 4,611,686,018,427,387,904 steps" in session.notices[-1].text
    assert load_checkpoint(session.checkpoint_bytes()).step == 2**62
    with pytest.raises(ValueError, match="counts at most"):
        session.trainer.train(1)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_a_run_that_logged_an_infinite_spectral_radius_round_trips():
    """Weights of 1.5e308 (finite) diverge at the first step; the rollback's evaluation logs the spectral radius of
    W_rec = 1.5e308 everywhere, 32 x 1.5e308 = 4.8e309, which overflows to inf, and NaN gradient norms."""
    trainer = Trainer(TrainConfig(eval_every=20))
    trainer.train(50)  # the last evaluation was at step 40: the rollback at step 50 logs one
    trainer.model.params["W_rec"][...] = 1.5e308
    trainer.model.params["W_out"][...] = np.where(np.arange(32) % 2 == 0, 1.5e308, -1.5e308)[:, None]
    session = Session()
    assert session.load_checkpoint_bytes(checkpoint_bytes(trainer), name="huge.npz"), session.notices
    assert session.train(10).diverged
    evals = session.trainer.evals
    assert evals.last("step") == 50 and evals.last("spectral_radius") == np.inf
    loaded = load_checkpoint(session.checkpoint_bytes()).to_trainer()
    for name in evals.columns:
        np.testing.assert_array_equal(loaded.evals.array(name), evals.array(name), err_msg=name)
    np.testing.assert_array_equal(loaded.last_grad_norms, session.trainer.last_grad_norms)


@pytest.mark.parametrize(
    "column, values, loads",
    [
        ("spectral_radius", [0.0, np.inf], True),  # a magnitude that overflowed, after a zero
        ("grad_norms", [[0.0] * 8, [np.inf] * 8], True),
        ("spectral_radius", [0.0, -np.inf], False),
        ("max_abs_weight", [0.0, np.inf], False),  # the largest of finite weights is finite
        ("accuracy", [0.0, np.inf], False),
    ],
)
def test_only_magnitudes_may_have_overflowed_to_infinity(column, values, loads):
    arrays = crafted.with_history(crafted.fresh_arrays(), points=64, evals=2)
    data = crafted.pack({**arrays, f"eval_{column}": np.array(values)})
    if loads:
        assert np.isinf(load_checkpoint(data).eval_columns[column]).any()
    else:
        with pytest.raises(CheckpointError, match=f"eval_{column} contains infinite values"):
            load_checkpoint(data)


def fill_every_store(trainer: Trainer) -> None:
    """The trainer with each history store as full as it ever gets: 19,999 step-log points, 4,095 evaluation
    records, its maximum of snapshots (values copied from its own first ones)."""
    steps = 19_999
    trainer.steps_log.extend(0, np.linspace(1.0, 0.0, steps))
    trainer.step = steps
    record = {name: trainer.evals.columns[name][-1] for name in trainer.evals.columns}
    while trainer.evals.n < trainer.evals.capacity - 1:
        trainer.evals.append({**record, "step": trainer.evals.last("step") + 1})
    store = trainer.snapshots
    while len(store.steps) < store.max_count:
        store.add(store.steps[-1] + 1, trainer.model.theta)


@pytest.mark.parametrize(
    "config",
    [
        {"n_hidden": 256, "op": "mixed", "optimizer": "adam"},  # the most parameters
        {"n_bits": 64, "n_hidden": 90, "optimizer": "adam"},  # the widest evaluation records
    ],
    ids=["256_units", "64_bits"],
)
def test_the_largest_run_a_trainer_can_hold_saves_under_the_size_limit(config):
    trainer = Trainer(TrainConfig(**config))
    fill_every_store(trainer)
    data = checkpoint_bytes(trainer)
    assert len(data) < MAX_CHECKPOINT_BYTES == 64 << 20
    assert len(data) < 11.5 * 2**20  # what the README states
    upload_limit_mb = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
    assert len(data) < upload_limit_mb << 20  # every download can be uploaded again
    loaded = load_checkpoint(data).to_trainer()
    assert loaded.step == trainer.step and loaded.evals.n == 4095
    assert loaded.snapshots.steps == trainer.snapshots.steps
    np.testing.assert_array_equal(loaded.model.theta, trainer.model.theta)


# -- 7. a download is named for the step it holds ----------------------------------------------------------------
@pytest.fixture
def media_managers(monkeypatch) -> list:
    """Every MediaFileManager AppTest creates (one per run), kept for executing deferred downloads afterwards."""
    import streamlit.testing.v1.app_test as app_test
    from streamlit.runtime.media_file_manager import MediaFileManager

    made = []

    class Recording(MediaFileManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Recording)
    return made


def click_download(manager, at, key: str) -> tuple[str, bytes]:
    """What a click on the download button `key` delivers: (file name, contents), through Streamlit's own
    deferred-download path (``execute_deferred``, as the server runs it when the browser asks)."""
    [button] = [b for b in at.get("download_button") if b.proto.id.endswith(key)]
    url = manager.execute_deferred(button.proto.deferred_file_id)
    stored = manager._storage.get_file(url.rsplit("/", 1)[-1])
    return stored.filename, stored.content


@pytest.mark.parametrize(
    "key, name",
    [
        ("download_checkpoint", "carrylab_add_8bit_step{}.npz"),
        ("download_step_history", "carrylab_add_8bit_step{}_errors.csv"),
    ],
)
def test_a_download_clicked_after_the_run_moved_on_is_named_for_the_step_it_holds(media_managers, key, name):
    """The button is drawn at step 0; the run trains 300 more steps (as during a long Train, when the previous
    run's button is still on screen) before the click. Before: the file was named step0 but held step 300."""
    from streamlit.testing.v1 import AppTest

    from carrylab.session import STATE_KEY
    from tests.conftest import DASHBOARD

    at = AppTest.from_file(str(DASHBOARD), default_timeout=30).run()
    assert not at.exception
    session = at.session_state[STATE_KEY]
    assert session.trainer.step == 0
    session.train(300)
    file_name, data = click_download(media_managers[-1], at, key)
    assert file_name == name.format(300)
    if key == "download_checkpoint":
        assert load_checkpoint(data).step == 300
    else:  # the error log's last row is step 299's
        assert data.decode().splitlines()[-1].startswith("299,")


def test_a_download_that_cannot_be_written_says_why_on_the_page():
    from carrylab.views.files import file_at_click

    session = Session()

    def refuse(trainer):
        raise CheckpointError("the checkpoint would be 70000000 bytes, more than 67108864")

    with pytest.raises(CheckpointError):
        file_at_click(session, lambda t: "x.npz", refuse)()
    [notice] = session.notices
    assert notice.level == "error"
    assert notice.text == "x.npz could not be written: the checkpoint would be 70000000 bytes, more than 67108864."


def test_a_download_button_does_not_keep_a_closed_tabs_session_alive():
    """Streamlit keeps a deferred download's callable after its session has ended; it must not hold the run."""
    import gc
    import weakref

    from carrylab.views.files import file_at_click

    session = Session()
    gone = weakref.ref(session)
    data = file_at_click(session, lambda t: "x.npz", checkpoint_bytes)
    assert load_checkpoint(data()).step == 0
    del session
    gc.collect()
    assert gone() is None
    with pytest.raises(RuntimeError, match="session has ended"):
        data()


# -- a closed tab gives its memory back (carrylab.lifetime) ------------------------------------------------------
def test_a_session_disconnected_longer_than_the_ttl_is_released_and_its_run_freed():
    """Streamlit keeps a closed tab's session past its TTL (until another tab disconnects, and then until the cycle
    collector runs); the registry lets go of the run itself once the TTL has passed."""
    import gc
    import weakref

    from carrylab.lifetime import Registry

    registry = Registry()
    closed, open_ = Session(), Session()
    run = weakref.ref(closed.trainer)
    registry.watch("closed", closed)
    registry.watch("open", open_)
    connected = {"open"}
    is_connected = connected.__contains__
    assert registry.sweep(is_connected, after=120, now=1000.0) == []  # first seen disconnected at t = 1000
    assert registry.sweep(is_connected, after=120, now=1120.0) == []  # within the TTL: a tab may still reconnect
    assert closed.trainer is not None
    assert registry.sweep(is_connected, after=120, now=1121.0) == ["closed"]
    assert closed.trainer is None and open_.trainer is not None
    gc.collect()
    assert run() is None  # nothing else held the trainer
    assert len(registry) == 1


def test_a_session_that_reconnects_within_the_ttl_is_kept():
    from carrylab.lifetime import Registry

    registry = Registry()
    session = Session()
    registry.watch("tab", session)
    assert registry.sweep(lambda sid: False, after=120, now=0.0) == []
    assert registry.sweep(lambda sid: True, after=120, now=100.0) == []  # reconnected: the clock starts again
    assert registry.sweep(lambda sid: False, after=120, now=130.0) == []
    assert registry.sweep(lambda sid: False, after=120, now=200.0) == []
    assert session.trainer is not None
    assert registry.sweep(lambda sid: False, after=120, now=251.0) == ["tab"]


@pytest.mark.browser
def test_a_checkpoint_downloaded_during_a_long_train_is_named_for_the_step_it_holds(chromium, streamlit_server):
    """In a real browser: Train 100,000 steps, and while it runs (the progress bar is up) click Download checkpoint.
    Before: the file was named step0 (the button was drawn before the Train) and held a later step."""
    from browser_support import IDLE

    context = chromium.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(f"{streamlit_server.url}/?steps_per_click=100000", timeout=60_000)
        page.wait_for_selector(IDLE, timeout=60_000)
        page.get_by_role("button", name="Train 100,000 steps").click()
        page.wait_for_selector('[data-testid="stProgress"]', timeout=60_000)
        with page.expect_download(timeout=60_000) as download_info:
            page.get_by_role("button", name="Download checkpoint").click()
        download = download_info.value
        step = load_checkpoint(Path(download.path()).read_bytes()).step
        assert 0 < step < 100_000
        assert download.suggested_filename == f"carrylab_add_8bit_step{step}.npz"
    finally:
        context.close()


TRIM_CHILD = """
import os, sys
sys.path.insert(0, sys.argv[1])
from carrylab.lifetime import return_freed_memory
def rss_mb():
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
blocks = [bytearray(64 << 10) for _ in range(3200)]  # 200 MB in 64 kB blocks, under glibc's mmap threshold
keep = blocks[-1]  # the heap's top stays in use, so free() alone cannot shrink the heap
del blocks
freed = rss_mb()
print(freed, int(return_freed_memory()), rss_mb())
"""


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads RSS from Linux /proc")
def test_freed_memory_is_handed_back_to_the_operating_system():
    """Without malloc_trim the 200 MB freed below a live block stayed in the process (as the released sessions'
    memory did in the server)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", TRIM_CHILD, str(ROOT)], capture_output=True, text=True, check=True)
    before, trimmed, after = (float(v) for v in out.stdout.split())
    if not trimmed:
        pytest.skip("no glibc here: nothing to trim")
    assert before > 150  # freed, but still resident
    assert after < before - 150


def test_a_tab_whose_session_was_released_starts_afresh_instead_of_failing():
    """A safety net: should a tab still be drawn after its session was released, it gets a new session."""
    from streamlit.testing.v1 import AppTest

    from carrylab.session import STATE_KEY
    from tests.conftest import DASHBOARD

    at = AppTest.from_file(str(DASHBOARD), default_timeout=30).run()
    at.session_state[STATE_KEY].train(5)
    old = at.session_state[STATE_KEY]
    old.release()
    at.run()
    assert not at.exception
    assert at.session_state[STATE_KEY] is not old and at.session_state[STATE_KEY].trainer.step == 0


def test_each_check_has_streamlit_shut_down_the_sessions_it_releases_before_their_ttl_runs_out():
    """Streamlit can only shut down a session it still holds, so the release comes two checks (20 s) before the
    120 s TTL; the session is closed through the Runtime, which also marks it not resumable."""
    from carrylab.lifetime import Registry, check

    class FakeRuntime:
        def __init__(self):
            self.connected, self.closed = {"open"}, []

        def is_active_session(self, session_id):
            return session_id in self.connected

        def clear_user_info_for_session(self, session_id):
            self.closed.append(session_id)

    rt, registry = FakeRuntime(), Registry()
    gone, kept = Session(), Session()
    registry.watch("gone", gone)
    registry.watch("open", kept)
    assert check(rt, 120, now=0.0, registry=registry) == []
    assert check(rt, 120, now=100.0, registry=registry) == [] and rt.closed == []
    assert check(rt, 120, now=100.5, registry=registry) == ["gone"]
    assert rt.closed == ["gone"] and gone.trainer is None and kept.trainer is not None
