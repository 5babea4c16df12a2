"""Weights in PyTorch's layout, as numpy arrays: moving a model between rnn_core and PyTorch without importing torch.

The layout is that of ``torch.nn.RNN/GRU/LSTM(n_in, H, batch_first=True).state_dict()`` (``weight_ih_l0``
(G, n_in), ``weight_hh_l0`` (G, H), ``bias_ih_l0`` (G,), ``bias_hh_l0`` (G,), the gates stacked in PyTorch's order:
GRU r, z, n; LSTM i, f, g, o) plus ``out.weight`` (n_out, H) and ``out.bias`` (n_out,) of the ``nn.Linear`` read-out.
Each cell declares its mapping in ``torch_layout``. A bias the model keeps once (Elman, LSTM) is exported as
(bias, zeros); exporting its gradient puts the gradient in both slots, as PyTorch reports it. ``from_torch`` sums
PyTorch's two biases where the model keeps one.

    sd = to_torch(model); torch_module.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    model = from_torch("gru", {k: v.numpy() for k, v in torch_module.state_dict().items()})
"""

from __future__ import annotations

import numpy as np

from rnn_core.cells import cell_class
from rnn_core.model import RecurrentModel

READOUT = {"out.weight": ("W_out", "T"), "out.bias": ("b_out", "=")}


def _layout(cls) -> dict[str, tuple[str, str]]:
    return {**cls.torch_layout, **READOUT}


def to_torch(model: RecurrentModel, arrays: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """The model's parameters (or ``arrays``: e.g. the grads dict of ``loss_and_grads``, shaped like params) as
    PyTorch state_dict entries: independent numpy arrays in the model's dtype."""
    values = model.params if arrays is None else arrays
    missing = [k for k in model.params if k not in values]
    if missing:
        raise ValueError(f"to_torch: missing {', '.join(missing)} for a {model.cell} model")
    out = {}
    for key, (name, how) in _layout(type(model)).items():
        value = np.asarray(values[name])
        if value.shape != model.params[name].shape:
            raise ValueError(f"to_torch: {name} has shape {value.shape}, expected {model.params[name].shape}")
        if how == "T":
            out[key] = np.array(value.T)
        elif how == "+" and arrays is None:
            out[key] = np.zeros_like(value)
        else:
            out[key] = np.array(value)
    return out


def from_torch(cell: str, state_dict: dict, *, dtype=None) -> RecurrentModel:
    """A model of ``cell`` holding the weights of a PyTorch state_dict (numpy arrays, or anything np.asarray takes,
    under the keys ``to_torch`` writes). The sizes come from the arrays; dtype: the model's (default the arrays'
    float32/float64). ValueError naming the first unknown, missing or misshaped entry; no model is built then."""
    cls = cell_class(cell)
    layout = _layout(cls)
    keys = set(state_dict)
    missing, unknown = sorted(set(layout) - keys), sorted(keys - set(layout))
    if missing or unknown:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unknown {', '.join(unknown)}"] if unknown else []
        )
        raise ValueError(f"from_torch: not a {cell} state_dict ({'; '.join(parts)}); expected {', '.join(layout)}")
    arrays = {k: np.asarray(v) for k, v in state_dict.items()}
    w_ih, w_out = arrays["weight_ih_l0"], arrays["out.weight"]
    if w_ih.ndim != 2 or w_out.ndim != 2:
        raise ValueError("from_torch: weight_ih_l0 and out.weight must be matrices")
    n_in, n_out, H = w_ih.shape[1], w_out.shape[0], w_out.shape[1]
    if min(n_in, n_out, H) < 1:
        raise ValueError(f"from_torch: empty weights (weight_ih_l0 {w_ih.shape}, out.weight {w_out.shape})")
    if dtype is None:
        dtype = np.float32 if all(a.dtype == np.float32 for a in arrays.values()) else np.float64
    shapes = cls.param_shapes(n_in, H, n_out)
    params: dict[str, np.ndarray] = {}
    for key, (name, how) in layout.items():
        value = arrays[key]
        if value.dtype.kind not in "fiu":
            raise ValueError(f"from_torch: {key} must hold numbers, got dtype {value.dtype}")
        want = shapes[name][::-1] if how == "T" else shapes[name]
        if value.shape != want:
            raise ValueError(
                f"from_torch: {key} has shape {value.shape}, expected {want} for a {cell} cell with {n_in} inputs, "
                f"{H} units and {n_out} outputs"
            )
        value = value.T if how == "T" else value
        params[name] = params[name] + value if how == "+" else np.array(value, dtype=np.float64)
    model = cls(n_in, H, n_out, np.random.default_rng(0), dtype=dtype)
    model.set_params(params)
    return model
