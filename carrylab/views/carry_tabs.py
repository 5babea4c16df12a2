"""The carry-diagnostic tabs, adapted to the dashboard's Session.

The carry views (carry.py, errors.py, ...) take a Trainer and a CarryAnalysis rather than the Session, so they can
be rendered and tested on their own; this module is the one place that feeds them from the session: the analysis
is computed once per trainer step (and, while playing, reused for a few frames: it costs 35-60 ms).

Each tab's module is imported when that tab first opens, not with the dashboard: the page opens on the Training tab,
and the server's first run (imports included) is on the path of the first render.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from carrylab.session import Session
from carrylab.settings import probe_operator

if TYPE_CHECKING:
    from carrylab.analysis import CarryAnalysis


def analysis(session: Session) -> CarryAnalysis:
    from carrylab.analysis import analyse

    return session.throttled(
        "carry_analysis", (), lambda: session.cached("carry_analysis", lambda: analyse(session.trainer))
    )


def probe(session: Session) -> tuple[str, str, str]:
    s = session.settings
    return (s["operand_a"], s["operand_b"], probe_operator(s))


def view(name: str):
    """The view module `carrylab.views.<name>`, imported on first use."""
    return import_module(f"carrylab.views.{name}")


VIEWS = [
    ("Carry in the units", (lambda s: view("carry").render(s.trainer, analysis(s), probe=probe(s)),)),
    ("Where the errors are", (lambda s: view("errors").render(s.trainer, analysis(s)),)),
    ("Every pair", (lambda s: view("pairs").render(s.trainer, analysis(s)),)),
    ("Longer numbers", (lambda s: view("length").render(s.trainer),)),
    ("Gradients & weights", (lambda s: view("dynamics").render(s.trainer, analysis(s)),)),
    ("Learned machine", (lambda s: view("machine").render(s.trainer, analysis(s)),)),
    ("Filmstrip", (lambda s: view("filmstrip").render(s.trainer, probe=probe(s)),)),
    ("Seeds", (lambda s: view("seeds").render(s.trainer),)),
]
