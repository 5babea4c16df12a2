"""The dashboard's tabs: one registry of views, each ``(tab label, renderers)`` with every renderer taking the
`Session`. Adding a view is one module in carrylab/views and one line here. The first tab is open by default.

The carry views themselves take a trainer and an analysis (so they can be drawn and tested on their own); their
line here feeds them from the session (`common.carry_analysis`, `common.probe_operands`).
"""

from __future__ import annotations

from carrylab.views import (
    View,
    carry,
    dynamics,
    errors,
    filmstrip,
    length,
    machine,
    network,
    pairs,
    probe,
    race,
    runs,
    seeds,
    sweep,
    training,
)
from carrylab.views.common import carry_analysis as analysis
from carrylab.views.common import probe_operands

VIEWS: list[View] = [
    ("Training", (training.render, runs.render_pin, probe.render)),
    ("Network", (network.render,)),
    ("Carry in the units", (lambda s: carry.render(s.trainer, analysis(s), probe=probe_operands(s)),)),
    ("Where the errors are", (lambda s: errors.render(s.trainer, analysis(s)),)),
    ("Every pair", (lambda s: pairs.render(s.trainer, analysis(s)),)),
    ("Longer numbers", (lambda s: length.render(s.trainer, live=s.running),)),
    ("Gradients & weights", (lambda s: dynamics.render(s.trainer, analysis(s)),)),
    ("Learned machine", (lambda s: machine.render(s.trainer, analysis(s)),)),
    ("Filmstrip", (lambda s: filmstrip.render(s.trainer, probe=probe_operands(s)),)),
    ("Seeds", (lambda s: seeds.render(s.trainer),)),
    ("Sweep", (sweep.render,)),
    ("Runs", (runs.render,)),
    ("Race", (race.render,)),
]
