"""The cells, one module each, and ``make_model``: the one way to build a model of a named cell.

A module here that defines a ``RecurrentModel`` subclass with a ``cell`` name is a cell: it is found by importing
every module of this package, so a new cell is one new module (and its tests) and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np

from rnn_core.model import RecurrentModel


def _discover() -> dict[str, type[RecurrentModel]]:
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, RecurrentModel)
                and obj.cell
                and obj.__module__ == module.__name__
            ):
                found[obj.cell] = obj
    order = ("elman", "gru", "lstm")  # the post's cell first, then PyTorch's order; any other after them
    return {name: found[name] for name in (*[n for n in order if n in found], *sorted(set(found) - set(order)))}


CELL_CLASSES: dict[str, type[RecurrentModel]] = _discover()
CELLS: tuple[str, ...] = tuple(CELL_CLASSES)


def cell_class(cell: str) -> type[RecurrentModel]:
    """The model class of a cell name; ValueError naming the known cells for any other."""
    if cell not in CELL_CLASSES:
        raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
    return CELL_CLASSES[cell]


def make_model(cell: str, n_in: int, n_hidden: int, n_out: int = 1, rng=None, dtype=np.float64, **options):
    """A model of the named cell ("elman", "gru", "lstm"): n_in inputs, n_hidden units, n_out sigmoid outputs.

    rng: the generator that initialises the weights (a fresh one if None); options: the cell's own keyword
    options (``cls.options``, e.g. the Elman cell's activation, use_bias, init). ValueError for anything unknown.
    """
    cls = cell_class(cell)
    unknown = sorted(set(options) - set(cls.options))
    if unknown:
        raise ValueError(f"the {cell} cell has no option {', '.join(unknown)}; its options: {cls.options or 'none'}")
    return cls(n_in, n_hidden, n_out, rng, dtype=dtype, **options)
