"""One script run of a session at a time, and training bounded in time (carrylab.session.Session).

Streamlit's fast reruns start a new run of the page while the previous one is still running (a Stop, Pause or
Reset click). These tests play both runs in two threads, as Streamlit does, and check what the page relies on:
the newer run ends the older run's training after about one step and only then touches the trainer; a Play frame
and a Train chunk end on time however many steps were asked for.
"""

from __future__ import annotations

import threading
import time

import pytest

from carrylab.session import CHUNK_SECONDS, PLAY_FRAME_SECONDS, Session

ENDLESS = 10**7  # steps: hours of training at any model size, so only a stop can end the call in these tests
SLACK = 2.0  # seconds allowed for the stop checks on a busy 2-core machine
LARGEST = {"n_hidden": 256, "batch_size": 2048}  # the largest model the page allows: ~0.25 s per step
# Steps that take about 10 s at each size: a call bounded in time ends long before; an unbounded one fails the test.
TEN_SECONDS = [({}, 300_000), (LARGEST, 40)]


class OlderRun(threading.Thread):
    """A script run that holds the session and trains ENDLESS steps; records what it did and when it ended."""

    def __init__(self, session: Session, **train_kwargs):
        super().__init__(daemon=True)
        self.session, self.train_kwargs = session, train_kwargs
        self.training = threading.Event()
        self.outcome = None
        self.ended = float("nan")

    def run(self) -> None:
        with self.session.exclusive():
            self.training.set()
            self.outcome = self.session.train(ENDLESS, **self.train_kwargs)
            self.ended = time.monotonic()


def start_older_run(session: Session, **train_kwargs) -> OlderRun:
    run = OlderRun(session, **train_kwargs)
    run.start()
    assert run.training.wait(30)
    time.sleep(0.3)  # well into its training
    return run


def test_a_newer_run_ends_the_older_runs_training_and_waits_for_it():
    session = Session()
    older = start_older_run(session)
    asked = time.monotonic()
    with session.exclusive():
        got_it = time.monotonic()
        assert older.ended <= got_it  # the older run had stopped training before this run could touch the trainer
        assert not session.superseded()  # the newest run is not asked to stop
        step = session.trainer.step
        session.train(1)
        assert session.trainer.step == step + 1  # the step after Stop is +1
    older.join(5)
    assert not older.is_alive()
    assert 0 < older.outcome.steps_done < ENDLESS and older.outcome.step == step
    assert got_it - asked < SLACK


def test_the_newest_of_several_waiting_runs_is_the_one_not_superseded():
    session = Session()
    seen = {}
    with session.exclusive():
        assert not session.superseded()
        with session.exclusive():  # re-entrant in one thread (the live fragment drawn inside the full run)
            assert not session.superseded()

        def waiting(name: str) -> None:
            with session.exclusive():
                seen[name] = session.superseded()

        first = threading.Thread(target=waiting, args=("first",))
        first.start()
        time.sleep(0.2)
        assert session.superseded()  # a newer run has claimed the session
        second = threading.Thread(target=waiting, args=("second",))
        second.start()
        time.sleep(0.2)
    first.join(5)
    second.join(5)
    assert seen == {"first": True, "second": False}  # the first waiter is already outdated when it gets the session
    assert not session.superseded()  # nobody holds it


def test_reset_from_a_callback_waits_for_the_older_runs_training():
    """on_click callbacks run before the new run's script body, possibly while the older run still trains."""
    session = Session()
    older = start_older_run(session)
    old_trainer = session.trainer
    session.reset()
    assert older.ended <= time.monotonic()  # had ended before the trainer was replaced
    older.join(5)
    assert session.trainer is not old_trainer and session.trainer.step == 0
    assert old_trainer.step == older.outcome.step < ENDLESS


@pytest.mark.parametrize("settings, n_steps", TEN_SECONDS)
def test_a_play_frame_ends_on_time_at_any_size(settings, n_steps):
    """At the largest size a frame at the top demo speed (5,000 steps) would take over 20 minutes."""
    session = Session(settings)
    session.start()
    began = time.monotonic()
    session.play_frame(n_steps, until_solved=False)
    took = time.monotonic() - began
    assert 1 <= session.trainer.step < n_steps
    assert PLAY_FRAME_SECONDS <= took < PLAY_FRAME_SECONDS + SLACK


@pytest.mark.parametrize("settings, n_steps", TEN_SECONDS)
def test_a_long_train_reports_progress_on_time_and_a_raising_progress_stops_it(settings, n_steps):
    """A Stop click or a closed tab surfaces as an exception from the progress callback (a Streamlit call)."""

    class Stopped(Exception):
        pass

    session = Session(settings)
    calls = []

    def on_progress(done: int, total: int) -> None:
        calls.append(time.monotonic())
        if len(calls) == 4:
            raise Stopped

    began = time.monotonic()
    with pytest.raises(Stopped):
        session.train(n_steps, on_progress=on_progress)
    gaps = [b - a for a, b in zip([began, *calls], calls)]
    assert max(gaps) < CHUNK_SECONDS + SLACK
    assert 0 < session.trainer.step < n_steps
