"""The model interface every consumer uses: one recurrent cell, a linear read-out and a sigmoid.

    state_t = cell(x_t, state_{t-1}),  state_0 = 0      (a dict of named (B, H) arrays: "h", and "c" for the LSTM)
    y_t = sigmoid(h_t W_out + b_out)

Shapes: B batch, T time steps (bits, least-significant first), H hidden units, G = n_gates * H.

A cell is one module under ``rnn_core/cells/`` with a subclass of ``RecurrentModel``. It declares its parameters
and writes its recurrence twice: plainly (``input_projection``, ``recur``, ``combine``, ``_reference_backward``:
the readable path every consumer and the tests use) and once for speed (``_compile``: private passes over
prebuilt buffers for a (T, B) shape, which the trainer reaches through ``training_pass``). Everything else lives
here, once: the flat parameter vector, the read-out, the losses, the public forward/backward methods.

The public step interface, used by evaluation over shared prefixes, the analysis and the probes:
- ``input_projection(x)``: (..., n_in) -> (..., G), the input's part of every gate, bias included; computed once
  per distinct input;
- ``recur(state)``: (M, H) states -> (M, G), the state's part (the recurrent product), once per distinct state;
- ``combine(proj, rec, state)``: the new state from the two parts (elementwise, so the three may broadcast);
- ``step(proj, state) = combine(proj, recur(state), state)``; ``readout(h)``: (..., H) -> (..., n_out) logits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from rnn_core import fastnp

LOSSES = ("mse", "bce")
INITS = ("normal", "uniform")


class ParamDict(dict):
    """A dict of named views into the model's flat parameter vector.

    ``d[name] = array`` copies the array into the view (shape checked), so the flat vector, which forward/backward
    and the optimizers use, always holds the current values.
    """

    def __setitem__(self, name, value):
        if name not in self:
            raise KeyError(f"unknown parameter {name!r}; expected one of {', '.join(self)}")
        view = dict.__getitem__(self, name)
        value = np.asarray(value, dtype=view.dtype)
        if value.shape != view.shape:
            raise ValueError(f"{name} must have shape {view.shape}, got {value.shape}")
        view[...] = value


def sigmoid(u: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic function via tanh: exact in float64, no overflow warnings for large |u|."""
    out = np.multiply(u, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def loss_and_output_grad(y: np.ndarray, target: np.ndarray, loss: str) -> tuple[float, np.ndarray]:
    """Plain loss of sigmoid outputs y against 0/1 targets and its derivative by the output logits (same shape).

    mse: 0.5 * sum((y - t)**2); bce: -sum(t log y + (1 - t) log(1 - y)) (tiny added inside the logs)."""
    if loss == "mse":
        return 0.5 * float(np.sum((y - target) ** 2)), (y - target) * y * (1.0 - y)
    tiny = np.finfo(y.dtype).tiny
    value = -float(np.sum(target * np.log(y + tiny) + (1.0 - target) * np.log(1.0 - y + tiny)))
    return value, y - target


# The PyTorch state_dict layout of a cell that keeps one bias b_rec (see interop.py): key -> (parameter, how),
# "T" transposed, "=" as is, "+" the second copy of a bias kept once (zeros as a parameter, the same gradient).
ONE_BIAS_TORCH_LAYOUT = {
    "weight_ih_l0": ("W_in", "T"),
    "weight_hh_l0": ("W_rec", "T"),
    "bias_ih_l0": ("b_rec", "="),
    "bias_hh_l0": ("b_rec", "+"),
}
GATED_INITS = ("normal", "torch")


def init_gated(model: RecurrentModel, rng, init: str, biases: dict[str, np.ndarray] | None = None) -> None:
    """Initialise a gated cell's W_in, W_rec and the read-out, drawn in that order from rng.

    "normal": N(0, 1)/sqrt(fan_in) weights and zero biases (the post's scheme), then ``biases`` (name -> values);
    "torch": PyTorch's default, every parameter U(-1/sqrt(H), 1/sqrt(H)), read-out included (``nn.Linear``)."""
    if init not in GATED_INITS:
        raise ValueError(f"init must be one of {GATED_INITS}, got {init!r}")
    H = model.n_hidden
    for name, view in model.params.items():
        if init == "torch":
            model.params[name] = rng.uniform(-1.0 / np.sqrt(H), 1.0 / np.sqrt(H), view.shape)
        elif view.ndim == 2:
            model.params[name] = rng.standard_normal(view.shape) / np.sqrt(view.shape[0])
    for name, value in (biases or {}).items():
        if init == "normal":
            model.params[name] = value


def _positive_int(name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{name} must be a positive whole number, got {v!r}")
    return int(v)


class Pass(NamedTuple):
    """A cell's compiled passes for one (T, B) shape, over buffers it owns (private to the model)."""

    inputs: np.ndarray  # (T, B, n_in) where forward() reads x, time-major
    outputs: np.ndarray  # (T, B, n_out) sigmoid outputs after forward()
    states: dict  # name -> (T+1, B, H) view of the states after forward()
    grad_h: np.ndarray  # (T, B, H) dL/dh_t, t = 1..T, after a backward
    forward: Callable[[], None]
    backward: dict  # loss -> backward(target_tm (T, B, n_out)) -> loss; fills model.grad


class TrainingPass(NamedTuple):
    """What the trainer needs for fast steps of one shape: write x into ``inputs`` (T, B, n_in, time-major), call
    ``run(target)`` with target (T, B, n_out) time-major: forward and backward, the loss returned and the gradient
    left in ``model.grad``; ``outputs`` (T, B, n_out) then holds the outputs of that forward."""

    inputs: np.ndarray
    outputs: np.ndarray
    run: Callable[[np.ndarray], float]


class RecurrentModel:
    """Base of every cell: the cell's parameters, then W_out (H, n_out), b_out (n_out,), all views into ``theta``.

    A subclass sets ``cell`` (its name), ``state_names``, ``n_gates``, ``work`` (cost of a step relative to an
    Elman step, for the size budget), ``state_range``, ``options`` and ``torch_layout``; it implements
    ``_cell_shapes``, ``_cell_views``, the plain path and ``_compile``, and initialises its weights in __init__.
    """

    cell: str = ""
    state_names: tuple[str, ...] = ("h",)
    n_gates: int = 1
    work: int = 1
    activation: str = "tanh"  # the range of h: "tanh" (-1..1) or "sigmoid" (0..1), e.g. for colour scales
    options: tuple[str, ...] = ()  # keyword options the constructor takes beyond the shared ones
    state_range: tuple[float, float] = (-1.0, 1.0)  # (lo, hi) of h, for saturation
    torch_layout: dict[str, tuple[str, str]] = {}  # PyTorch state_dict key -> (parameter, how), see interop.py
    blocks: tuple[str, ...] = ("",)  # what each H-wide column block of W_in / W_rec feeds, in order (n_gates names)
    gate_names: tuple[str, ...] = ()  # the gates ``gates`` returns (values in 0..1); none for the Elman cell

    def __init__(self, n_in: int, n_hidden: int, n_out: int = 1, *, dtype=np.float64):
        """The shared part of a cell's constructor: sizes, dtype, zero parameters (the cell then initialises them)."""
        self.n_in = _positive_int("n_in", n_in)
        self.n_hidden = _positive_int("n_hidden", n_hidden)
        self.n_out = _positive_int("n_out", n_out)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.theta = np.zeros(self.n_params(self.n_in, self.n_hidden, self.n_out), dtype=self.dtype)
        self.grad = np.zeros_like(self.theta)  # d loss / d theta after forward_backward
        self.params = self._views(self.theta)
        self.grads = self._views(self.grad)
        self._pass: Pass | None = None
        self._pass_cache: dict = {}

    # -- parameters -----------------------------------------------------------------------------------------
    @classmethod
    def param_shapes(cls, n_in: int, n_hidden: int, n_out: int = 1) -> dict[str, tuple[int, ...]]:
        """Every parameter's shape by name (the cell's first, then W_out and b_out)."""
        return {**cls._cell_shapes(n_in, n_hidden), "W_out": (n_hidden, n_out), "b_out": (n_out,)}

    @classmethod
    def n_params(cls, n_in: int, n_hidden: int, n_out: int = 1) -> int:
        return sum(int(np.prod(s)) for s in cls.param_shapes(n_in, n_hidden, n_out).values())

    @classmethod
    def _cell_shapes(cls, n_in: int, n_hidden: int) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError

    def _cell_views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Named views of the cell's parameters into its part of the flat vector (the first n_cell entries)."""
        raise NotImplementedError

    def _views(self, flat: np.ndarray) -> ParamDict:
        H = self.n_hidden
        n_cell = flat.size - (H + 1) * self.n_out
        W_out_cat = flat[n_cell:].reshape(H + 1, self.n_out)  # rows: W_out (H), b_out (1)
        d = ParamDict()
        dict.update(d, self._cell_views(flat[:n_cell]), W_out=W_out_cat[:H], b_out=W_out_cat[H])
        d.W_out_cat = W_out_cat
        return d

    def copy_params(self) -> dict[str, np.ndarray]:
        """An independent copy of every parameter (e.g. for a snapshot)."""
        return {k: np.array(v) for k, v in self.params.items()}

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        """Copy every named parameter in (KeyError naming a missing one; ValueError for a wrong shape)."""
        missing = [k for k in self.params if k not in params]
        if missing:
            raise KeyError(f"missing parameter(s) {', '.join(missing)} for a {self.cell} cell")
        for k in self.params:
            self.params[k] = params[k]

    def with_dtype(self, dtype) -> RecurrentModel:
        """This model (same dtype) or a copy of its parameters in another dtype (e.g. float32 evaluation)."""
        if np.dtype(dtype) == self.dtype:
            return self
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.dtype = np.dtype(dtype)
        other.theta = self.theta.astype(other.dtype)
        other.grad = np.zeros_like(other.theta)
        other.params, other.grads = other._views(other.theta), other._views(other.grad)
        other._pass, other._pass_cache = None, {}
        return other

    # -- the plain path (public; the reference the compiled passes are tested against) ----------------------
    def zero_state(self, m: int) -> dict[str, np.ndarray]:
        """The initial state of m sequences: every named part (m, H) of zeros."""
        return {name: np.zeros((m, self.n_hidden), dtype=self.dtype) for name in self.state_names}

    def input_projection(self, x: np.ndarray) -> np.ndarray:
        """x (..., n_in) -> (..., G): the input's part of every gate's pre-activation, bias included."""
        raise NotImplementedError

    def recur(self, state: dict[str, np.ndarray]) -> np.ndarray:
        """state parts (M, H) -> (M, G): the state's part of the pre-activations (the recurrent product)."""
        raise NotImplementedError

    def combine(self, proj: np.ndarray, rec: np.ndarray, state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The next state from input_projection's and recur's parts (elementwise: the arguments may broadcast,
        e.g. rec (M, 1, G) against proj (1, K, G) gives the (M, K, H) children of M states under K inputs).
        rec is consumed: a cell may write into it (pass a copy to keep it)."""
        raise NotImplementedError

    def gates(self, proj: np.ndarray, rec: np.ndarray) -> dict[str, np.ndarray]:
        """The gates of a step from input_projection's and recur's parts: name -> (..., H) in 0..1, in
        ``gate_names`` order (empty for a cell without gates). For views: which gate holds or lets through what."""
        return {}

    def step(self, proj: np.ndarray, state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """One step of the recurrence: proj (M, G) from input_projection, state parts (M, H) -> next state."""
        return self.combine(proj, self.recur(state), state)

    def readout(self, h: np.ndarray) -> np.ndarray:
        """h (..., H) -> output logits (..., n_out) (before the sigmoid)."""
        return h @ self.params["W_out"] + self.params["b_out"]

    def reference_forward(self, x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Like ``forward`` by the plain path, in the model's dtype; touches no buffer of the compiled passes."""
        B, T = self._check_x(x)
        proj = self.input_projection(np.asarray(x, dtype=self.dtype))  # (B, T, G)
        states = {name: np.zeros((B, T + 1, self.n_hidden), dtype=self.dtype) for name in self.state_names}
        state = self.zero_state(B)
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(T):
                state = self.step(proj[:, t], state)
                for name in self.state_names:
                    states[name][:, t + 1] = state[name]
            y = sigmoid(self.readout(states["h"][:, 1:]))
        return y, states

    def reference_loss_and_grads(self, x: np.ndarray, target: np.ndarray, loss: str = "mse"):
        """Like ``loss_and_grads`` by the plain path (plain BPTT, written from the equations)."""
        B, T = self._check_x(x)
        target = self._check_target(target, B, T, loss)
        x = np.asarray(x, dtype=self.dtype)
        y, states = self.reference_forward(x)
        value, dz = loss_and_output_grad(y, target, loss)  # (B, T, n_out)
        hs = states["h"][:, 1:]
        grads = self._reference_backward(x, states, dz @ self.params["W_out"].T)
        grads["W_out"] = np.einsum("bth,bto->ho", hs, dz)
        grads["b_out"] = dz.sum(axis=(0, 1))
        return value, {k: grads[k] for k in self.params}

    def _reference_backward(self, x: np.ndarray, states: dict, dh_out: np.ndarray) -> dict[str, np.ndarray]:
        """Plain BPTT of the cell: x (B, T, n_in), states as reference_forward's, dh_out (B, T, H) the read-out's
        part of dL/dh_t for t = 1..T -> gradients of the cell's own parameters."""
        raise NotImplementedError

    # -- the compiled path ------------------------------------------------------------------------------------
    def _compile(self, T: int, B: int) -> Pass:
        raise NotImplementedError

    def _compiled(self, T: int, B: int) -> Pass:
        """The compiled passes for a (T, B) shape, reused between calls of the same shape."""
        key = (T, B)
        cached = self._pass_cache.get(key)
        if cached is None:
            cached = self._compile(T, B)
            if len(self._pass_cache) >= 3:  # keep the training shape and a couple of evaluation shapes
                self._pass_cache.pop(next(iter(self._pass_cache)))
            self._pass_cache[key] = cached
        self._pass = cached
        return cached

    def training_pass(self, T: int, B: int, loss: str) -> TrainingPass:
        """The fast forward and backward of one training step of shape (T, B) (see ``TrainingPass``)."""
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        p = self._compiled(T, B)
        forward, backward = p.forward, p.backward[loss]

        def run(target_tm: np.ndarray) -> float:
            forward()
            return backward(target_tm)

        return TrainingPass(p.inputs, p.outputs, run)

    def _readout_and_loss(
        self, T: int, B: int, HO_2d: np.ndarray, Y: np.ndarray, R_out: np.ndarray, feature_major: bool = False
    ):
        """The compiled read-out and loss, shared by every cell.

        HO_2d: (T B, H+1) rows [h_t, 1] for t = 1..T, a view into the cell's state buffer (feature_major: the
        transpose of its (H+1, T B) view, multiplied in that orientation, 3x faster in BLAS at one output);
        Y: (T, B, n_out); R_out: (T, B, H) where the loss's part of dL/dh_t goes.
        Returns (readout(), loss_grad(target_tm, loss) -> loss, out_grads())."""
        n_out, dt = self.n_out, self.dtype
        Y_2d = Y.reshape(T * B, n_out)
        DZ = np.empty((T, B, n_out), dtype=dt)  # d loss / d output logits
        TMP = np.empty((T, B, n_out), dtype=dt)
        DZ_2d = DZ.reshape(T * B, n_out)
        W_out_cat, W_out = self.params.W_out_cat, self.params["W_out"]
        w_out_row = W_out[:, 0]
        g_out = self.grads.W_out_cat
        tiny = np.finfo(dt).tiny
        dot, mul, add, sub, tanh, vdot = fastnp.dot, np.multiply, np.add, np.subtract, np.tanh, fastnp.vdot
        half, one = fastnp.constant(0.5, dt), fastnp.constant(1.0, dt)

        by_rows, HO_fm = feature_major and n_out == 1, HO_2d.T  # (H+1, T B) of a feature-major cell

        def readout() -> None:
            if by_rows:  # (1, H+1) @ (H+1, T B) into the (T B, 1) logits, transposed
                dot(W_out_cat.T, HO_fm, Y_2d.T)
            else:
                dot(HO_2d, W_out_cat, Y_2d)  # logits of every step at once
            mul(Y, half, Y)  # sigmoid(z) = 0.5 tanh(z / 2) + 0.5, inline: it is 4 calls
            tanh(Y, Y)
            mul(Y, half, Y)
            add(Y, half, Y)

        def loss_grad(target_tm: np.ndarray, loss: str) -> float:
            sub(Y, target_tm, DZ)  # y - t
            if loss == "mse":
                value = 0.5 * float(vdot(DZ, DZ))
                mul(DZ, Y, DZ)
                sub(one, Y, TMP)
                mul(DZ, TMP, DZ)  # d/dz 0.5 (y - t)^2 = (y - t) y (1 - y)
            else:  # d/dz BCE(sigmoid(z)) = y - t, already in DZ
                value = -float(np.sum(target_tm * np.log(Y + tiny) + (1.0 - target_tm) * np.log(1.0 - Y + tiny)))
            if n_out == 1:  # the output layer's part of dL/dh_t for all steps
                mul(DZ, w_out_row, R_out)
            else:
                R_out[...] = dot(DZ, W_out.T)
            return value

        def out_grads() -> None:
            if by_rows:
                dot(HO_fm, DZ_2d, g_out)
            elif n_out == 1:  # (1, T B) @ (T B, H+1): a row-vector product into the (H+1, 1) gradient, transposed
                dot(DZ_2d.T, HO_2d, g_out.T)
            else:
                dot(HO_2d.T, DZ_2d, g_out)

        return readout, loss_grad, out_grads

    # -- the public forward and backward ----------------------------------------------------------------------
    def _check_x(self, x) -> tuple[int, int]:
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[2] != self.n_in:
            raise ValueError(f"x must have shape (B, T, {self.n_in}), got {x.shape}")
        B, T, _ = x.shape
        if T < 1 or B < 1:
            raise ValueError(f"x must hold at least one example and one time step, got shape {x.shape}")
        return B, T

    def _check_target(self, target, B: int, T: int, loss: str) -> np.ndarray:
        target = np.asarray(target, dtype=self.dtype)
        if target.shape != (B, T, self.n_out):
            raise ValueError(f"target must have shape {(B, T, self.n_out)}, got {target.shape}")
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        return target

    def _load_inputs(self, x) -> Pass:
        B, T = self._check_x(x)
        p = self._compiled(T, B)
        p.inputs[...] = np.asarray(x).transpose(1, 0, 2)
        return p

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """x: (B, T, n_in) -> y: (B, T, n_out) sigmoid outputs, states: name -> (B, T+1, H) with [:, 0] == 0."""
        p = self._load_inputs(x)
        with np.errstate(over="ignore", invalid="ignore"):  # extreme weights: inf/NaN outputs, checked by callers
            p.forward()
        return p.outputs.transpose(1, 0, 2).copy(), self.last_states()

    def forward_backward(self, x: np.ndarray, target: np.ndarray, loss: str = "mse") -> float:
        """One forward and backward pass. x: (B, T, n_in), target: (B, T, n_out) of 0/1.

        Returns the loss; the gradient is left in ``self.grad`` (flat) / ``self.grads`` (named views), the states
        in ``last_states()``, ``last_output()`` and ``grad_h_norms()`` until the next call.
        """
        B, T = self._check_x(x)
        target = self._check_target(target, B, T, loss)
        p = self._load_inputs(x)
        p.forward()
        return p.backward[loss](target.transpose(1, 0, 2))

    def loss_and_grads(self, x: np.ndarray, target: np.ndarray, loss: str = "mse"):
        """Loss (0.5 * sum((y - t)**2) over batch, time and outputs by default, or "bce") and its exact gradient.

        Returns (loss: float, grads: dict with the same keys and shapes as params, independent copies).
        """
        value = self.forward_backward(x, target, loss)
        return value, {k: np.array(v) for k, v in self.grads.items()}

    def last_states(self) -> dict[str, np.ndarray]:
        """name -> (B, T+1, H) states of the last forward."""
        return {k: v.transpose(1, 0, 2).copy() for k, v in self._pass.states.items()}

    def last_hidden(self) -> np.ndarray:
        """h: (B, T+1, H) of the last forward."""
        return self._pass.states["h"].transpose(1, 0, 2).copy()

    def last_output(self) -> np.ndarray:
        """y: (B, T, n_out) of the last forward."""
        return self._pass.outputs.transpose(1, 0, 2).copy()

    def grad_h_norms(self) -> np.ndarray:
        """||dL/dh_t|| per time step t = 1..T of the last forward_backward, averaged over the batch: (T,)."""
        GH = self._pass.grad_h
        return np.sqrt(np.einsum("tbh,tbh->tb", GH, GH)).mean(axis=1)

    def recurrent_matrix(self) -> np.ndarray | None:
        """The (H, H) matrix of a linear recurrence, whose spectral radius the trainer logs; None for gated cells."""
        return None
