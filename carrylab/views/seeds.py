"""View "Reliability over seeds": train the current configuration from K seeds and see how many solve it.

Why: a single run that learns (or does not) may be luck. K independent runs of the same settings, each with its
own random initial weights and example order, show how reliable a configuration is. The runs happen on the
server's Dask workers (``carrylab.sweeps``, the engine of the Sweep view) only when the button is pressed, and end
with the script run that started them (Cancel, any other click, the tab closing); the results, including those
finished before a cancel, stay in ``st.session_state[RESULTS_KEY]`` with the configuration they belong to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from carrylab.charts import CAPTIONS, seed_sweep_figure
from carrylab.formatting import percent
from carrylab.sweeps import run_jobs, workers
from carrylab.views.common import explain, show_chart
from rnn_core.engine import make_jobs
from rnn_core.train import TrainConfig, Trainer

if TYPE_CHECKING:  # pandas (~0.5 s to import) loads on first use, after the page's first elements
    import pandas as pd

RESULTS_KEY = "seed_sweep"  # {"config": dict without the seed, "seeds": [...], "budget": int, "results": [...]}
MAX_BUDGET = 20_000  # steps per seed from this tab
BUDGETS = (500, 1000, 2000, 5000, 10_000, MAX_BUDGET)
MAX_K = 16
_SEED_LIMIT = TrainConfig.BOUNDS["seed"][1]


def _config_key(config: TrainConfig) -> dict:
    """The configuration without its seed (what a sweep's results belong to)."""
    return {k: v for k, v in config.to_dict().items() if k != "seed"}


def sweep_seeds(first: int, k: int) -> list[int]:
    """k consecutive seeds starting at the current one (wrapping below the seed limit)."""
    return [(first + i) % (_SEED_LIMIT + 1) for i in range(k)]


def render(trainer: Trainer) -> None:
    st.subheader("Reliability over seeds")
    config = trainer.config
    left, right = st.columns(2)
    k = left.slider("Seeds", 1, MAX_K, 8, key="seed_sweep_k", help="How many independent runs to train.")
    budget = right.select_slider(
        "Step budget per seed",
        options=BUDGETS,
        value=5000,
        key="seed_sweep_budget",
        help="Each run stops when every pair is right, or after this many steps.",
    )
    seeds = sweep_seeds(config.seed, k)
    st.caption(
        f"Seeds {seeds[0]}–{seeds[-1]} of the current settings, on the server's {workers()} worker process(es) "
        "shared by every open tab. Nothing runs until you press the button; any other click stops the sweep."
    )
    if st.button("Run seed sweep", key="seed_sweep_run", type="primary"):
        _run(config, seeds, int(budget))

    _results(config)
    explain(
        "Each dot is one complete training run of the current settings from a different random seed (initial "
        "weights and the order of examples), stopped as soon as every pair is right. Runs that never got there "
        "within the budget are drawn as ✕ on the dotted line.\n\n"
        "**What to look for**: a reliable configuration solves with every seed, at similar step counts. A wide "
        "spread, or a few ✕, means learning the carry depends on luck: try a different learning rate, more "
        "hidden units or another optimizer, and sweep again."
    )


def _run(config: TrainConfig, seeds: list[int], budget: int) -> None:
    """Train the seeds on the server's engine; results land in the session state as they finish."""
    stored = {"config": _config_key(config), "seeds": [], "budget": budget, "results": [], "planned": len(seeds)}
    st.session_state[RESULTS_KEY] = stored
    by_seed: dict[int, dict] = {}

    def on_rows(job, rows: list[dict]) -> None:
        by_seed.update((r["seed"], r) for r in rows)
        finished = [s for s in seeds if s in by_seed]  # in the order of the seeds
        stored["seeds"], stored["results"] = finished, [by_seed[s] for s in finished]

    jobs = make_jobs([((), config.to_dict(), seeds)], workers())
    run_jobs(jobs, budget, on_rows, cancel_key="seed_sweep_cancel", what="seeds")


def _results(config: TrainConfig) -> None:
    """The last sweep's chart and table (nothing before the first sweep)."""
    stored = st.session_state.get(RESULTS_KEY)
    if not stored or not stored["results"]:
        return
    if stored["config"] != _config_key(config):
        st.warning("These results are for different settings than the current ones: run the sweep again.")
    results = stored["results"]
    solved = np.array([np.nan if r["solved_at_step"] is None else r["solved_at_step"] for r in results], float)
    n_solved = int(np.isfinite(solved).sum())
    summary = f"**{n_solved} of {len(results)}** seeds solved the task within {stored['budget']:,} steps"
    if n_solved:
        summary += f" (median {np.nanmedian(solved):,.0f} steps)"
    planned = stored.get("planned", len(results))
    if len(results) < planned:
        summary += f"; the sweep was stopped after {len(results)} of {planned} seeds"
    st.markdown(summary + ".")
    fig = seed_sweep_figure(np.array(stored["seeds"]), solved, budget=stored["budget"])
    show_chart(fig, "seed_sweep_chart", CAPTIONS["seed_sweep_figure"])
    st.dataframe(results_table(results), key="seed_sweep_table", hide_index=True, width="stretch")


def _solved_text(step: int | None) -> str:
    return "not solved" if step is None else f"{step:,}"


def results_table(results: list[dict]) -> pd.DataFrame:
    """One row per seed, all columns of one type each (so the table needs no conversion in the browser)."""
    import pandas as pd

    return pd.DataFrame(
        {
            "seed": [r["seed"] for r in results],
            "solved at step": [_solved_text(r["solved_at_step"]) for r in results],
            "accuracy": [percent(r["accuracy"]) for r in results],
            "steps trained": [r["steps"] for r in results],
            "seconds": [round(r["seconds"], 2) for r in results],
            "diverged": [r["diverged"] for r in results],
        }
    )
