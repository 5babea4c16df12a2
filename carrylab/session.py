"""The state of one browser session: its trainer, its settings, cached analysis and what to tell the user.

Why a class of its own: Streamlit re-executes the script on every click, and every browser tab is a
separate session running in the same process. Everything trainable (model, optimizer, random
generator, history) therefore lives in one `Session` object stored in that tab's `st.session_state`,
never in module globals or `st.cache_resource`, which every tab would share.

The class holds no Streamlit calls, so it is tested like any other object; the views read from it
and call its methods. Rules it follows (Streamlit's own guidance for long-running work):
- training runs in chunks of bounded time (a click elsewhere can interrupt a long run between chunks, and
  a progress callback is called once per chunk, never per step);
- analysis that is expensive (evaluation details, carry correlation) is cached per trainer step and
  model version and recomputed only when the weights have changed; only the newest entry is kept;
- a failed action becomes a `Notice` for the page instead of an exception: a bad setting changes nothing; a
  divergence keeps the steps before the failing one (trained, logged and evaluated once more) and rolls the
  weights back to just before it.
- one script run at a time (`carrylab.guard`): a newer run makes `superseded()` true and the older run's training
  ends within about one step, so no trainer is used by two runs at once.

Its parts, one job each: the current run (`carrylab.run.Run`: trainer, wall clock, name), the pinned runs
(`carrylab.pinned`), the race (`carrylab.race`), the wanted probe operands (`carrylab.reconcile`), the per-step
caches (`carrylab.step_cache`) and the run guard (`carrylab.guard`); this class applies settings changes and turns
actions into notices.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from carrylab.analysis import ProbeTrace, probe_trace
from carrylab.guard import RUN_WAIT_SECONDS, RunGuard, SessionBusy  # noqa: F401 (re-exported)
from carrylab.pinned import PinError, PinnedRuns
from carrylab.race import Race
from carrylab.reconcile import OPERANDS, WantedOperands, fall_back_in_size, operand_note
from carrylab.run import Run, labels
from carrylab.settings import (
    CONFIG_SETTINGS,
    DEFAULTS,
    PRESETS,
    RESET_SETTINGS,
    SETTINGS,
    changed_settings,
    config_from_settings,
    fit_operand,
    fit_variant,
    in_page_words,
    matching_preset,
    preset_settings,
    probe_operator,
    settings_from_config,
)
from carrylab.step_cache import PLAYING_REFRESH_FRAMES, StepCache  # noqa: F401 (re-exported)
from rnn_core.checkpoint import (
    CheckpointError,
    checkpoint_bytes,
    is_runs_checkpoint,
    load_checkpoint,
    load_runs_checkpoint,
    runs_checkpoint_bytes,
)
from rnn_core.metrics import Evaluation
from rnn_core.train import MAX_STEP, Trainer, TrainingDiverged

STATE_KEY = "carrylab_session"  # where the Session lives in st.session_state
FRAME_SECONDS = 0.15  # live-training frame interval while playing (about 6-7 frames a second)
FIRST_CHUNK_STEPS = 50  # a "Train N steps" click first trains this many steps to time them ...
CHUNK_SECONDS = 0.25  # ... then chunks of at most this long (a progress update, and a chance to be interrupted)
PLAY_FRAME_SECONDS = 0.5  # a live frame trains at most this long, whatever the demo speed and the model size
RECENT_WINDOW = 200  # the "error" metric is the mean over this many most recent steps


@dataclass(frozen=True)
class Notice:
    """A message for the page. level: "info" | "success" | "warning" | "error". about_settings: the result of a
    settings change (or a refused entry), replaced by the next settings change; the rest (a divergence, a stop
    when solved, a loaded checkpoint) stay until the next action that trains, resets or loads."""

    level: str
    text: str
    about_settings: bool = False


@dataclass(frozen=True)
class MetricValues:
    """The headline numbers. error: mean over the last RECENT_WINDOW steps (nan before any step);
    accuracy: share of pairs right (0..1) measured at accuracy_step."""

    step: int
    error: float
    accuracy: float
    accuracy_step: int
    solved_at_step: int | None


@dataclass(frozen=True)
class TrainOutcome:
    steps_done: int
    step: int
    stopped_early: bool  # stopped because every pair is right (until_solved)
    diverged: bool  # stopped by an error: a divergence, out of memory, the step limit


def checkpoint_summary(trainer: Trainer) -> str:
    """'add, 8 bits, step 1000': what a checkpoint holds, for messages."""
    config = trainer.config
    return f"{config.op}, {config.n_bits} bit{'s' if config.n_bits != 1 else ''}, step {trainer.step}"


def checkpoint_file_name(trainer: Trainer) -> str:
    """'carrylab_add_8bit_step1000.npz'."""
    return f"carrylab_{trainer.config.op}_{trainer.config.n_bits}bit_step{trainer.step}.npz"


def recent_error(steps: np.ndarray, error: np.ndarray, step: int, window: int = RECENT_WINDOW) -> float:
    """Mean error of the points covering the last `window` steps (at least the last point).

    steps: (n,) first step of each (possibly downsampled) point; error: (n,). nan when there are none.
    """
    if len(error) == 0:
        return float("nan")
    recent = steps >= step - window
    if not recent.any():
        recent = np.zeros(len(error), dtype=bool)
        recent[-1] = True
    return float(np.mean(error[recent]))


def unit_order(corr: np.ndarray) -> np.ndarray:
    """Units sorted by |correlation with the carry|, strongest first (ties: lower unit first). (H,) -> (H,)."""
    return np.argsort(-np.abs(np.nan_to_num(np.asarray(corr, dtype=np.float64))), kind="stable")


class Session:
    """One browser tab's trainer, settings, per-step caches, play flag and notices."""

    def __init__(self, settings: Mapping | None = None):
        self.settings: dict = {**DEFAULTS, **(settings or {})}  # every setting's current value
        self.settings["preset"] = matching_preset(self.settings, self.settings["preset"])
        # The probe operands the user typed (or a link or the defaults gave): a narrower width reduces the shown ones,
        # and they come back when they fit again (8 -> 4 -> 8 bits: 13 + 33, 5 + 1, 13 + 33).
        self.operands = WantedOperands(self.settings)
        op, n_bits = probe_operator(self.settings), int(self.settings["n_bits"])
        for name in OPERANDS:  # the defaults, reduced if a link's width is too narrow for them (a given one is kept)
            if self.settings[name] == DEFAULTS[name]:
                self.settings[name] = fit_operand(DEFAULTS[name], op, n_bits)
        self.notices: list[Notice] = []
        self.refused: set[str] = set()  # settings whose widgets still show a refused value (the page puts it back)
        try:
            trainer = Trainer(config_from_settings(self.settings))
        except ValueError as exc:  # values valid one by one, too large together (e.g. from a link)
            trainer, self.settings, warning = fall_back_in_size(self.settings, exc)
            self.notices.append(Notice("warning", warning))
        self.current: Run | None = Run(trainer)  # the run the controls train and the views show (None: released)
        self.pinned = PinnedRuns()
        self.race: Race | None = None  # the race started last (carrylab.race)
        self.model_version = 0  # bumped whenever the model is rebuilt (the step count restarts then)
        self.running = False  # Play/Pause
        self._caches = StepCache()
        self._shown: tuple[tuple[int, int], MetricValues] | None = None  # metrics last shown
        self._previous: MetricValues | None = None  # metrics shown before those (for deltas)
        self.frames = 0  # live frames played so far (for throttled views)
        self.guard = RunGuard()
        self.lock = self.guard.lock  # held while a trainer changes and while a checkpoint is written
        self.applied_upload: str | None = None  # file_id of the last uploaded checkpoint handled

    @property
    def trainer(self) -> Trainer | None:
        """The current run's trainer (None once the session was released)."""
        return self.current.trainer if self.current is not None else None

    def release(self) -> None:
        """Let go of every run (current, pinned, race lanes) and cache: the tab has closed for good, and this session
        is never drawn again. A download callable still registered for it then fails instead of writing."""
        with self.lock:
            self.running = False
            self.current = None
            self.pinned = PinnedRuns()
            self.race = None
            self._caches = StepCache()
            self._shown = self._previous = None

    # -- one script run at a time (carrylab.guard) ----------------------------------------------------------
    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the session for a script run (or a callback that replaces a trainer); see RunGuard.exclusive."""
        with self.guard.exclusive():
            yield

    def superseded(self) -> bool:
        """True when a newer run of this session has claimed it: the run holding it should end its work now."""
        return self.guard.superseded()

    # -- settings ----------------------------------------------------------------------------------------
    def config_settings(self) -> dict:
        return {name: self.settings[name] for name in CONFIG_SETTINGS}

    def update_settings(self, new: Mapping) -> list[str]:
        """Apply changed settings. A changed task/model setting rebuilds the model (with a notice); a changed
        learning rate applies from the next step. Returns the names of settings adjusted here (probe
        operands reduced to fit a new width), which the caller must push back into its widgets."""
        merged = {**self.settings, **{k: v for k, v in new.items() if k in SETTINGS}}
        if merged == self.settings:
            return []
        self.operands.note_typed(self.settings, merged)
        notes: list[tuple[str, str]] = []  # this change's messages; they replace the last change's (_note_settings)
        variant_fitted = bool(changed_settings(self.settings, merged, ("cell",))) and fit_variant(merged)[1] is not None
        merged = fit_variant(merged)[0] if variant_fitted else merged  # a gated cell: the plain variant
        reset = changed_settings(self.settings, merged, RESET_SETTINGS)
        if reset:
            try:
                trainer = Trainer(config_from_settings(merged))
            except ValueError as exc:  # each value is in bounds, but together too large (n_bits x n_hidden^2)
                notes.append(("error", f"Settings not applied: {in_page_words(str(exc))}."))
                self.refused.update(reset)  # the model settings go back; the other changes still apply
                merged.update({name: self.settings[name] for name in reset})
                reset = []
        if reset:
            adjusted = self.operands.fit(self.settings, merged, ("operator", "n_bits", "probe_op"))
            if variant_fitted:  # its widget is drawn already: put back by a rerun, like a refused value
                self.refused.add("variant")
            refitted = "".join(operand_note(self.settings, name, merged) for name in adjusted)
            merged["preset"] = matching_preset(merged, merged["preset"])
            self.settings = merged
            self._replace_trainer(trainer)
            labels = ", ".join(SETTINGS[name].label.lower() for name in reset)
            text = f"Settings changed ({labels}): model reset to step 0.{refitted}"
            self.notices = [Notice("info", text, about_settings=True)]  # a new model: every older message is stale
            return adjusted
        eta_changed = bool(changed_settings(self.settings, merged, ("eta",)))
        if eta_changed:
            try:
                self.trainer.set_learning_rate(merged["eta"])
            except ValueError as exc:
                notes.append(("error", f"Learning rate not applied: {exc}"))
                merged["eta"] = self.settings["eta"]
                self.refused.add("eta")
            else:
                notes.append(("info", f"Learning rate set to {merged['eta']:g} from step {self.trainer.step + 1}."))
        if eta_changed or merged["preset"] != self.settings["preset"]:
            # the preset names the configuration: a new learning rate may leave it (a preset is chosen with
            # apply_preset; a preset name arriving here is only kept if the configuration is that preset's)
            merged["preset"] = matching_preset(merged, merged["preset"])
        adjusted = self.operands.fit(self.settings, merged, ("probe_op",)) if merged != self.settings else []
        self.settings = merged
        self._note_settings(notes)
        return adjusted

    def _note_settings(self, notes: list[tuple[str, str]]) -> None:
        """The messages of a settings change, after the notices that are not about settings: the last settings
        change's (e.g. a refused entry's) are stale now, the others (a divergence, a stop when solved) stay."""
        self.notices = [n for n in self.notices if not n.about_settings]
        self.notices += [Notice(level, text, about_settings=True) for level, text in notes]

    # -- actions -----------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Re-initialise the model from the seed (same settings); stops playing."""
        self._replace_trainer(Trainer(config_from_settings(self.settings)))
        self.notices = [Notice("info", f"Model reset to step 0 (seed {self.settings['seed']}).")]

    def apply_preset(self, key: str) -> None:
        """Set every config setting to the preset's (unknown key: an error notice, nothing changes), reset the
        model, and refit the probe operands to the new width. Display settings (demo speed, ...) are kept."""
        if key not in PRESETS:
            self.notices = [Notice("error", f"Unknown preset {str(key)[:40]!r}: nothing changed.")]
            return
        merged = {**self.settings, **preset_settings(key)}
        try:
            trainer = Trainer(config_from_settings(merged))
        except ValueError as exc:  # the table is tested, so this is a safety net
            self.notices = [Notice("error", f"Preset not applied: {exc}")]
            return
        self.operands.fit(self.settings, merged, ("operator", "n_bits", "probe_op"))
        self.settings = merged
        self._replace_trainer(trainer)
        preset = PRESETS[key]
        self.notices = [Notice("info", f"Preset {preset.label}: {preset.description} Model reset to step 0.")]

    def load_checkpoint_bytes(self, data: bytes, name: str = "checkpoint") -> bool:
        """Replace the trainer with the one saved in a checkpoint (.npz bytes from an upload); its config becomes
        the settings. Anything wrong with the file: an error notice, and the model, history and settings stay as
        they were. Returns True when loaded."""
        shown = "".join(ch if ch.isprintable() else "?" for ch in str(name)[:60])
        if is_runs_checkpoint(data):
            return self._load_runs(data, shown)
        try:
            trainer = load_checkpoint(data).to_trainer()
        except (CheckpointError, ValueError, OSError, MemoryError) as exc:
            reason = str(exc).strip().rstrip(".") or type(exc).__name__
            self.notices = [Notice("error", f"Could not load {shown}: {reason}. The model was not changed.")]
            return False
        merged = {**self.settings, **settings_from_config(trainer.config)}
        merged["preset"] = matching_preset(merged, merged["preset"])
        self.operands.fit(self.settings, merged, ("operator", "n_bits", "probe_op"))
        self.settings = merged
        self._replace_trainer(trainer)
        self.notices = [Notice("success", f"Loaded checkpoint: {checkpoint_summary(trainer)}.")]
        return True

    def checkpoint_bytes(self) -> bytes:
        """The current trainer as a checkpoint (.npz bytes); safe to call from a download's own thread."""
        with self.lock:
            return checkpoint_bytes(self.trainer)

    # -- pinned runs (carrylab.pinned) ------------------------------------------------------------------------
    def act(self, action: Callable[[], str]) -> bool:
        """Run a pinned-runs action (e.g. ``lambda: session.pinned.keep(session.current)``); its message, or the
        PinError's, becomes the notice. True when it succeeded."""
        try:
            text = action()
        except PinError as exc:
            self.notices = [Notice("error", str(exc))]
            return False
        self.notices = [Notice("success", text)]
        return True

    def runs_checkpoint_bytes(self) -> bytes:
        """Every run (pinned, then the current one) in one file; their names as the legend shows them."""
        runs = self.pinned.with_current(self.current)
        with self.lock:
            return runs_checkpoint_bytes(
                [(name, run.seconds, run.trainer) for name, run in zip(labels(runs), runs, strict=True)]
            )

    def _load_runs(self, data: bytes, shown: str) -> bool:
        """A runs file: each run that loads becomes a pinned run (as many as there is room for); a corrupt run is
        named in a warning; the current run and the pinned ones stay."""
        try:
            loaded, errors = load_runs_checkpoint(data)
        except (CheckpointError, ValueError, OSError, MemoryError) as exc:
            reason = str(exc).strip().rstrip(".") or type(exc).__name__
            self.notices = [Notice("error", f"Could not load {shown}: {reason}. Nothing was changed.")]
            return False
        pinned = []
        for item in loaded:
            try:
                run = Run(item.checkpoint.to_trainer(), name=item.name, seconds=item.seconds)
                self.pinned.pin(run)
            except PinError:
                errors.append(f"run {item.name!r}: no room (at most {len(self.pinned)} pinned runs)")
                continue
            except (CheckpointError, ValueError) as exc:
                errors.append(f"run {item.name!r}: {exc}")
                continue
            pinned.append(item.name)
        self.notices = []
        if pinned:
            self.notices.append(Notice("success", f"Loaded {len(pinned)} run(s) from {shown} as pinned runs."))
        if errors:
            self.notices.append(Notice("warning" if pinned else "error", "Not loaded: " + "; ".join(errors) + "."))
        return bool(pinned)

    def _replace_trainer(self, trainer: Trainer) -> None:
        with self.exclusive():  # from a callback, while an older run may still be training the current trainer
            self.current = Run(trainer)  # built completely before it is assigned; a pinned old run stays pinned
            self.model_version += 1
            self.running = False
            self._caches.clear_order()
            self._shown = None
            self._previous = None

    def start(self) -> None:
        self.running = True
        self.notices = []
        if self.race is not None:
            self.race.running = False  # one live loop at a time

    # -- the race (carrylab.race) -------------------------------------------------------------------------------
    @property
    def live(self) -> bool:
        """True while the page should redraw on a timer: Play, or a race playing."""
        return self.running or (self.race is not None and self.race.running)

    def start_race(self, lanes: list[dict]) -> bool:
        """A race of the current settings with each lane's changes (e.g. {"cell": "gru", "n_hidden": 8}), playing.
        A bad lane or a race over the size budget: an error notice, and the previous race stays."""
        try:
            base = config_from_settings(self.settings)
            race = Race.start([dataclasses.replace(base, **lane) for lane in lanes])
        except (ValueError, TypeError) as exc:
            self.notices = [Notice("error", f"Race not started: {in_page_words(str(exc))}.")]
            return False
        with self.exclusive():
            self.race = race
            self.running = False
            race.running = True
        self.notices = []
        return True

    def play_race(self, playing: bool) -> None:
        if self.race is not None and not self.race.finished:
            self.race.running = bool(playing)
            if playing:
                self.running = False

    def race_frame(self) -> bool:
        """One live frame of the race: each racing lane trains the steps a lone Play frame would (demo speed),
        within PLAY_FRAME_SECONDS in all, never past a newer run's claim. Returns True when the race just ended."""
        race = self.race
        if race is None or not race.running:
            return False
        with self.lock:
            race.frame(int(self.settings["demo_speed"]), should_stop=self.superseded, seconds=PLAY_FRAME_SECONDS)
        return race.finished

    def pause(self) -> None:
        self.running = False

    def train(
        self,
        n_steps: int,
        *,
        until_solved: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
        clear_notices: bool = True,
        seconds: float | None = None,
    ) -> TrainOutcome:
        """Train n_steps, or for at most `seconds` (then fewer steps), and never past a newer run's claim
        (`superseded`): the trainer checks both after every step. With on_progress, in chunks of at most
        CHUNK_SECONDS (sized from the measured time per step), calling on_progress(steps done, n_steps) between
        chunks. Divergence keeps the rolled-back model, stops playing and leaves an error notice; `until_solved`
        stops when every pair is right (with a success notice)."""
        if clear_notices:
            self.notices = []
        run = self.current
        trainer = run.trainer
        start = trainer.step
        if start + n_steps > MAX_STEP:  # only a loaded checkpoint gets there; the trainer would refuse
            self.running = False
            self.notices.append(
                Notice(
                    "error",
                    f"This run is at step {start:,}; a run counts at most {MAX_STEP:,} steps. Reset, or "
                    "load another checkpoint.",
                )
            )
            return TrainOutcome(0, start, False, True)
        chunk = FIRST_CHUNK_STEPS if on_progress is not None else max(1, int(n_steps))
        limit = time.monotonic() + seconds if seconds is not None else math.inf
        stopped = False
        while trainer.step - start < n_steps and not self.superseded():
            began = time.perf_counter()
            deadline = min(limit, time.monotonic() + CHUNK_SECONDS) if on_progress is not None else limit

            def should_stop(deadline: float = deadline) -> bool:
                return self.superseded() or time.monotonic() >= deadline

            try:
                with self.lock:
                    report = run.train(
                        min(chunk, n_steps - (trainer.step - start)), until_solved=until_solved, should_stop=should_stop
                    )
            except TrainingDiverged as exc:
                self.running = False
                self.notices.append(Notice("error", str(exc)))
                return TrainOutcome(trainer.step - start, trainer.step, False, True)
            except MemoryError:  # the size budget in TrainConfig should prevent it; never an exception box
                self.running = False
                self.notices.append(
                    Notice("error", "Out of memory while training: lower the hidden size, batch size or bit width.")
                )
                return TrainOutcome(trainer.step - start, trainer.step, False, True)
            if report.stopped_early:
                stopped = True
                break
            if time.monotonic() >= limit:
                break
            if on_progress is not None and trainer.step - start < n_steps:
                per_step = (time.perf_counter() - began) / max(1, report.steps_done)
                chunk = max(1, int(CHUNK_SECONDS / max(per_step, 1e-7)))
                on_progress(trainer.step - start, n_steps)
        if stopped:
            self.notices.append(
                Notice("success", f"Every pair is right at step {trainer.step}: training stopped (stop when solved).")
            )
        return TrainOutcome(trainer.step - start, trainer.step, stopped, False)

    def play_frame(self, n_steps: int, *, until_solved: bool) -> bool:
        """One live frame: train n_steps, or for PLAY_FRAME_SECONDS at most (a large model at a high demo speed).
        Returns True when playing stopped (solved or diverged)."""
        if not self.running:
            return False
        self.frames += 1
        outcome = self.train(n_steps, until_solved=until_solved, clear_notices=False, seconds=PLAY_FRAME_SECONDS)
        if outcome.diverged or outcome.stopped_early:
            self.running = False
            return True
        return False

    # -- per-step analysis -------------------------------------------------------------------------------
    def cached(self, name: str, compute: Callable[[], object]):
        """compute() once per model version and trainer step (for anything derived from the weights alone:
        include every other input in `name`). Only the current step's entries are kept."""
        return self._caches.cached((self.model_version, self.trainer.step), name, compute)

    def throttled(self, name: str, key: tuple, compute: Callable[[], object]):
        """compute() now when paused; while playing, reuse the value computed for the same `key` (the view's
        inputs) during PLAYING_REFRESH_FRAMES frames, even though the weights have moved on."""
        return self._caches.throttled(name, (self.model_version, *key), self.frames, self.running, compute)

    def evaluation(self) -> Evaluation:
        """Exhaustive accuracy of the current weights (cached per step)."""
        return self.cached("evaluation", self.trainer.evaluate)

    def details(self) -> Evaluation:
        """Exhaustive evaluation with per-example arrays (hidden (N, T+1, H), prob (N, T), ...), cached per step."""
        return self.cached("details", lambda: self.trainer.evaluate(details=True))

    def carry_correlation(self) -> np.ndarray | None:
        """(H,) correlation of each unit with the true carry, or None for a task without carry. On the trainer's
        fixed subset: bounded cost and memory at any width (the full set's hidden states would be N x (T+1) x H
        floats, over a gigabyte at 64 bits)."""
        return self.cached("carry_correlation", self.trainer.carry_correlation)

    def unit_order(self, *, fresh: bool = True) -> np.ndarray | None:
        """Hidden units ordered by |carry correlation|. fresh=False (while playing) reuses the last order of
        this model instead of recomputing every frame. None if the correlation is unavailable."""
        held = self._caches.order
        if not fresh and held is not None and held[0] == self.model_version:
            return held[1]
        corr = self.carry_correlation()
        if corr is None:
            return None
        order = unit_order(corr)
        self._caches.order = (self.model_version, order)
        return order

    def metrics(self, *, fresh_accuracy: bool = True) -> tuple[MetricValues, MetricValues | None]:
        """(current, previously shown) headline numbers; the previous ones give the deltas.

        fresh_accuracy=False (while playing) uses the latest logged evaluation instead of evaluating now. A fresh
        evaluation is only shown: "solved at" is the trainer's (the first scheduled evaluation that found every pair
        right, see ``rnn_core.train``), so a run trained in clicks reads the same step as one trained in one go."""
        trainer = self.trainer
        step = trainer.step
        logged_step = int(trainer.evals.last("step", -1))
        if fresh_accuracy and logged_step != step:
            accuracy, accuracy_step = self.evaluation().accuracy, step
        else:
            accuracy, accuracy_step = float(trainer.evals.last("accuracy", float("nan"))), logged_step
        steps, error = trainer.steps_log.arrays()
        current = MetricValues(step, recent_error(steps, error, step), accuracy, accuracy_step, trainer.solved_at_step)
        key = (self.model_version, step)
        if self._shown is None or self._shown[0] != key:
            if self._shown is not None:
                self._previous = self._shown[1]
            self._shown = (key, current)
        return current, self._previous

    def probe(self, a: int, b: int, op: str) -> ProbeTrace:
        """The current model on one example a `op` b (operands already validated for the task)."""
        return probe_trace(self.trainer.model, self.trainer.task, a, b, op)

    def health_warnings(self) -> tuple[str, ...]:
        """Exploding or saturated units, judged on the current weights (on the latest logged evaluation while
        playing, to keep frames cheap)."""
        return self.trainer.health_warnings(None if self.running else self.evaluation())


def get_session(state: MutableMapping, settings: Mapping | None = None) -> tuple[Session, bool]:
    """The Session in `state` (st.session_state), created from `settings` if there is none yet.
    Returns (session, created)."""
    session = state.get(STATE_KEY)
    if isinstance(session, Session):
        return session, False
    session = Session(settings)
    state[STATE_KEY] = session
    return session, True
