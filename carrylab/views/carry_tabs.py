"""The carry-diagnostic tabs, adapted to the dashboard's Session.

The carry views (carry.py, errors.py, ...) take a Trainer and a CarryAnalysis rather than the Session, so they can
be rendered and tested on their own; this module is the one place that feeds them from the session: the analysis
is computed once per trainer step (and, while playing, reused for a few frames: it costs 35-60 ms).
"""

from __future__ import annotations

from carrylab.analysis import CarryAnalysis, analyse
from carrylab.session import Session
from carrylab.settings import probe_operator
from carrylab.views import carry, dynamics, errors, filmstrip, length, machine, pairs, seeds


def analysis(session: Session) -> CarryAnalysis:
    return session.throttled(
        "carry_analysis", (), lambda: session.cached("carry_analysis", lambda: analyse(session.trainer))
    )


def probe(session: Session) -> tuple[str, str, str]:
    s = session.settings
    return (s["operand_a"], s["operand_b"], probe_operator(s))


VIEWS = [
    ("Carry in the units", (lambda s: carry.render(s.trainer, analysis(s), probe=probe(s)),)),
    ("Where the errors are", (lambda s: errors.render(s.trainer, analysis(s)),)),
    ("Every pair", (lambda s: pairs.render(s.trainer, analysis(s)),)),
    ("Longer numbers", (lambda s: length.render(s.trainer, live=s.running),)),
    ("Gradients & weights", (lambda s: dynamics.render(s.trainer, analysis(s)),)),
    ("Learned machine", (lambda s: machine.render(s.trainer, analysis(s)),)),
    ("Filmstrip", (lambda s: filmstrip.render(s.trainer, probe=probe(s)),)),
    ("Seeds", (lambda s: seeds.render(s.trainer),)),
]
