"""A race: up to MAX_LANES configurations trained in lock-step, frame by frame, until each is solved or diverged.

Each lane is a `carrylab.run.Run`, like the current run and the pinned ones. A frame brings every lane still racing
to the same step (the slowest lane's step plus the frame's steps), so the lanes stay in lock-step even when a frame
is cut short by its time limit or by a newer script run (`should_stop`). A lane that diverges stops there and shows
as diverged; the others go on. Together the lanes must fit one run's size budget (`TrainConfig.MAX_EVAL_WORK`,
`MAX_STEP_WORK`), so a race costs a shared server no more than the largest single run. No Streamlit here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from carrylab.run import Run, labels
from rnn_core.train import TrainConfig, Trainer, TrainingDiverged

MAX_LANES = 3
MAX_RACE_STEPS = 200_000  # a race that has not finished by then ends (nobody solved)


@dataclass
class Lane:
    """One lane: its run, its legend name, and "racing" | "solved" | "diverged" (with the divergence message)."""

    run: Run
    name: str
    status: str = "racing"
    message: str = ""


@dataclass
class Race:
    lanes: list[Lane]
    running: bool = False
    frames: int = 0
    order: list[int] = field(default_factory=list)  # lane indices in the order they were solved

    @classmethod
    def start(cls, configs: Sequence[TrainConfig]) -> Race:
        """A race of the given configurations (1..MAX_LANES). ValueError (naming the lane) for a bad configuration
        or lanes that together are over one run's size budget."""
        if not 1 <= len(configs) <= MAX_LANES:
            raise ValueError(f"a race has 1 to {MAX_LANES} lanes, not {len(configs)}")
        for i, config in enumerate(configs):
            try:
                config.validate()
            except ValueError as exc:
                raise ValueError(f"lane {i + 1}: {exc}") from None
        _check_budget(configs)
        runs = [Run(Trainer(config)) for config in configs]
        return cls([Lane(run, name) for run, name in zip(runs, labels(runs), strict=True)])

    @property
    def finished(self) -> bool:
        return all(lane.status != "racing" for lane in self.lanes)

    def step(self) -> int:
        """The race's step: the step every lane still racing has reached."""
        racing = [lane.run.trainer.step for lane in self.lanes if lane.status == "racing"]
        return min(racing) if racing else max(lane.run.trainer.step for lane in self.lanes)

    def frame(self, n_steps: int, *, should_stop: Callable[[], bool], seconds: float) -> None:
        """Bring every racing lane to step() + n_steps, within `seconds` in all (each lane gets an equal share of
        what is left), stopping early when should_stop() (a newer script run). A lane that solves stops there."""
        self.frames += 1
        goal = self.step() + int(n_steps)
        deadline = time.monotonic() + seconds
        racing = [i for i, lane in enumerate(self.lanes) if lane.status == "racing"]
        for k, i in enumerate(racing):
            lane = self.lanes[i]
            todo = goal - lane.run.trainer.step
            if todo <= 0 or should_stop():
                continue
            share = (deadline - time.monotonic()) / (len(racing) - k)
            lane_deadline = time.monotonic() + max(share, 0.0)

            def stop(lane_deadline: float = lane_deadline) -> bool:
                return should_stop() or time.monotonic() >= lane_deadline

            try:
                report = lane.run.train(todo, until_solved=True, should_stop=stop)
            except TrainingDiverged as exc:
                lane.status, lane.message = "diverged", str(exc)
                continue
            if report.stopped_early:
                lane.status = "solved"
                self.order.append(i)
        if self.step() >= MAX_RACE_STEPS:
            for lane in self.lanes:
                if lane.status == "racing":
                    lane.status, lane.message = "stopped", f"not solved in {MAX_RACE_STEPS:,} steps"
        if self.finished:
            self.running = False

    def result(self) -> str:
        """Who solved first (by the step it was solved at, then seconds trained), or what happened."""
        solved = [lane for lane in self.lanes if lane.status == "solved"]
        if not solved:
            return "No lane has solved the task yet." if not self.finished else "No lane solved the task."
        first = min(solved, key=lambda lane: (lane.run.trainer.solved_at_step, lane.run.seconds))
        step, secs = first.run.trainer.solved_at_step, first.run.seconds
        return f"{first.name} solved first: at step {step:,} ({secs:.1f} s of training)."


def _check_budget(configs: Sequence[TrainConfig]) -> None:
    """The lanes' summed evaluation and step work must each fit one run's budget."""
    eval_work = sum(c.work * c.n_bits * c.n_hidden**2 for c in configs)
    step_work = sum(c.work * c.n_bits * c.batch_size * c.n_hidden for c in configs)
    if eval_work > TrainConfig.MAX_EVAL_WORK or step_work > TrainConfig.MAX_STEP_WORK:
        raise ValueError(
            f"these lanes together are over one run's size budget (work x bits x hidden^2 summed: {eval_work:,} of "
            f"{TrainConfig.MAX_EVAL_WORK:,}; work x bits x batch x hidden summed: {step_work:,} of "
            f"{TrainConfig.MAX_STEP_WORK:,}): use fewer lanes, fewer hidden units or a smaller batch"
        )
