"""Settings reconciliation helpers of a session: the probe operands the user wants, and a size fallback.

`WantedOperands` remembers the probe operands as typed; a narrower width or another operator reduces the shown ones
modulo the operand limit, and they come back when they fit again (8 -> 4 -> 8 bits: 13 + 33, 5 + 1, 13 + 33).
`fall_back_in_size` turns settings that are valid one by one but too large together (e.g. from a link) into ones
the engine's size budget allows.
"""

from __future__ import annotations

from collections.abc import Mapping

from carrylab.settings import (
    DEFAULTS,
    SETTINGS,
    changed_settings,
    config_from_settings,
    fit_operand,
    in_page_words,
    operand_range_text,
    probe_operator,
)
from rnn_core.train import Trainer

OPERANDS = ("operand_a", "operand_b")  # the probe's operands


class WantedOperands:
    """The probe operands as the user last typed them (or a link or the defaults gave them)."""

    def __init__(self, settings: Mapping):
        self.wanted = {name: str(settings[name]).strip() for name in OPERANDS}

    def note_typed(self, old: Mapping, merged: Mapping) -> None:
        """A typed operand is the one wanted from now on."""
        for name in OPERANDS:
            if merged[name] != old[name]:
                self.wanted[name] = str(merged[name]).strip()

    def fit(self, old: Mapping, merged: dict, triggers: tuple[str, ...]) -> list[str]:
        """When a setting in `triggers` changed from `old` to `merged`: the wanted operands, reduced modulo the
        operand limit if they do not fit, written into `merged`. Returns the names of the operands changed."""
        if not changed_settings(old, merged, triggers):
            return []
        op, n_bits = probe_operator(merged), merged["n_bits"]
        adjusted = []
        for name in OPERANDS:
            fitted = fit_operand(self.wanted[name], op, n_bits)
            if fitted != str(merged[name]).strip():
                merged[name] = fitted
                adjusted.append(name)
        return adjusted


def operand_note(old: Mapping, name: str, merged: Mapping) -> str:
    """What happened to a probe operand the new width or operator changed: reduced, or back to the wanted one."""
    op, n_bits, before = probe_operator(merged), int(merged["n_bits"]), str(old[name]).strip()
    if fit_operand(before, op, n_bits) == before:  # the old one fits too: the wanted one came back
        return f" Probe operand {name[-1]} is {merged[name]} again."
    return (
        f" Probe operand {name[-1]} = {before} is outside {operand_range_text(op, n_bits)} at {n_bits} bits: "
        f"now {merged[name]}."
    )


def fall_back_in_size(settings: Mapping, exc: ValueError) -> tuple[Trainer, dict, str]:
    """(trainer, settings, warning) when the settings are too large together: the setting over the engine's size
    budget (hidden units, then batch size if still needed) back to its default; the other values are kept. Any
    other error is raised as it was."""
    trial, names = dict(settings), []
    while (name := config_from_settings(trial, validate=False).over_budget()) and name not in names:
        trial[name] = DEFAULTS[name]
        names.append(name)
    if not names:
        raise exc
    trainer = Trainer(config_from_settings(trial))
    used = " and ".join(f"{SETTINGS[name].label.lower()} {DEFAULTS[name]}" for name in names)
    reason = in_page_words(str(exc))
    return trainer, trial, f"{reason[:1].upper()}{reason[1:]}. Using {used} instead."
