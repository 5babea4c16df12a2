"""The Elman RNN of the seed post, with exact backpropagation through time.

    h_t = act(x_t W_in + h_{t-1} W_rec + b_rec)     act = tanh (the post) or sigmoid (Trask's variant), h_0 = 0
    y_t = sigmoid(h_t W_out + b_out)

Shapes: B batch, T time steps (bits, least-significant first), H hidden units.

Exactness. The post's output layer *overwrites* its weight gradient at every time step (``grad_w = x.T @ delta``)
instead of adding to it; its backward loop runs from the last step to the first, so only the first time step's
contribution reaches the update of W_out and b_out. Here the output gradient is the sum over all time steps, which is
the true derivative of the loss; ``tests/test_gradients.py`` proves it against finite differences.

Speed. One training step at batch 1 is dominated by numpy's per-call overhead (~1 us a call), not by arithmetic,
so the layout is chosen to minimise calls:
- the state buffer ``Z[t] = [h_{t-1}, 1, x_t]`` and the stacked matrix ``W_cat = [W_rec; b_rec; W_in]`` turn the
  whole pre-activation into one product per step, ``u_t = Z[t] @ W_cat``, and the weight gradients of all three
  into one product over all steps, ``dW_cat = Z[:T]^T @ da``;
- ``[h_t, 1] @ [W_out; b_out]`` gives every step's output logit in one product;
- all parameters live in one flat vector ``theta`` (``params`` holds views into it), so an optimizer updates the
  whole model in a couple of calls.
Assigning a new array to ``model.params[name]`` copies it into that view, so it takes effect in the next forward.
"""

from __future__ import annotations

import numpy as np

PARAM_NAMES = ("W_in", "W_rec", "b_rec", "W_out", "b_out")
CELLS = ("tanh", "sigmoid")
LOSSES = ("mse", "bce")
INITS = ("normal", "uniform")


class ParamDict(dict):
    """A dict of named views into the model's flat parameter vector.

    ``d[name] = array`` copies the array into the view (shape checked), so the flat vector, which forward/backward
    and the optimizers use, always holds the current values.
    """

    def __setitem__(self, name, value):
        if name not in self:
            raise KeyError(f"unknown parameter {name!r}; expected one of {', '.join(PARAM_NAMES)}")
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


def activation(cell: str):
    """The hidden layer's activation function for a cell name ("tanh" or "sigmoid"), usable with out=."""
    return np.tanh if cell == "tanh" else sigmoid


class ElmanRNN:
    """Elman RNN with parameters W_in (n_in, H), W_rec (H, H), b_rec (H,), W_out (H, n_out), b_out (n_out,).

    rng: the random generator for initialisation (``np.random.Generator``, or a legacy ``RandomState`` for the
    Trask preset). init "normal": N(0, 1)/sqrt(fan_in) weights, drawn W_in, W_rec, W_out (the post's order);
    "uniform": uniform [-1, 1) drawn W_in, W_out, W_rec (Trask's order). Biases start at zero; with
    ``use_bias=False`` they stay zero (their gradient is held at zero).
    """

    def __init__(
        self,
        n_in: int,
        n_hidden: int,
        n_out: int = 1,
        rng: np.random.Generator | np.random.RandomState | None = None,
        *,
        cell: str = "tanh",
        use_bias: bool = True,
        init: str = "normal",
        dtype=np.float64,
    ):
        for name, v in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive whole number, got {v!r}")
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        self.n_in, self.n_hidden, self.n_out = int(n_in), int(n_hidden), int(n_out)
        self.cell, self.use_bias, self.init = cell, bool(use_bias), init
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        H, n_in, n_out = self.n_hidden, self.n_in, self.n_out
        self.k_in = H + 1 + n_in  # width of a state row [h, 1, x]
        n_cat = self.k_in * H
        self.theta = np.zeros(n_cat + (H + 1) * n_out, dtype=self.dtype)  # every parameter, flat
        self.grad = np.zeros_like(self.theta)  # d loss / d theta after forward_backward
        self.params = self._views(self.theta)
        self.grads = self._views(self.grad)
        self._cache_key = None
        self._buf_cache: dict = {}
        self._init_weights(rng if rng is not None else np.random.default_rng())

    # -- parameter layout -------------------------------------------------------------------------------------
    def _views(self, flat: np.ndarray) -> ParamDict:
        H = self.n_hidden
        n_cat = self.k_in * H
        W_cat = flat[:n_cat].reshape(self.k_in, H)  # rows: W_rec (H), b_rec (1), W_in (n_in)
        W_out_cat = flat[n_cat:].reshape(H + 1, self.n_out)  # rows: W_out (H), b_out (1)
        d = ParamDict()
        dict.update(
            d,
            W_in=W_cat[H + 1 :],
            W_rec=W_cat[:H],
            b_rec=W_cat[H],
            W_out=W_out_cat[:H],
            b_out=W_out_cat[H],
        )
        d.W_cat, d.W_out_cat = W_cat, W_out_cat
        return d

    @property
    def W_cat(self) -> np.ndarray:
        return self.params.W_cat

    @property
    def W_out_cat(self) -> np.ndarray:
        return self.params.W_out_cat

    def _init_weights(self, rng) -> None:
        H, n_in, n_out = self.n_hidden, self.n_in, self.n_out
        legacy = isinstance(rng, np.random.RandomState)
        if self.init == "normal":
            normal = rng.standard_normal if not legacy else rng.randn
            draw = lambda shape: (normal(*shape) if legacy else normal(shape)) / np.sqrt(shape[0])  # noqa: E731
            order = (("W_in", (n_in, H)), ("W_rec", (H, H)), ("W_out", (H, n_out)))
        else:
            uniform = rng.random_sample if legacy else rng.random
            draw = lambda shape: 2.0 * uniform(shape) - 1.0  # noqa: E731
            order = (("W_in", (n_in, H)), ("W_out", (H, n_out)), ("W_rec", (H, H)))
        for name, shape in order:
            self.params[name] = draw(shape)

    def copy_params(self) -> dict[str, np.ndarray]:
        """An independent copy of every parameter (e.g. for a snapshot)."""
        return {k: np.array(v) for k, v in self.params.items()}

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        for k in PARAM_NAMES:
            self.params[k] = params[k]

    # -- buffers ---------------------------------------------------------------------------------------------
    def _buffers(self, T: int, B: int):
        """Work arrays for a (T, B) sequence batch, reused between calls of the same shape."""
        key = (T, B)
        if self._cache_key != key:
            cached = self._buf_cache.get(key)
            if cached is not None:
                self._buf, self._cache_key = cached, key
                return cached
            H, K, dt = self.n_hidden, self.k_in, self.dtype
            Z = np.zeros((T + 1, B, K), dtype=dt)  # Z[t] = [h_{t-1}, 1, x_t]; Z[T, :, :H] = h_T
            Z[:, :, H] = 1.0
            self._buf = {
                "Z": Z,
                "U": np.empty((B, H), dtype=dt),  # pre-activation of one step
                "Y": np.empty((T, B, self.n_out), dtype=dt),  # outputs, time-major
                "DZ": np.empty((T, B, self.n_out), dtype=dt),  # d loss / d output logits
                # R[t] = [da_t, g_{t-1}]: d loss / d pre-activation at step t beside the output layer's part of
                # d loss / d h_{t-1}, so that one product with M = [W_rec^T; I] gives the whole dL/dh of a step.
                "R": np.zeros((T + 1, B, 2 * H), dtype=dt),
                "M": np.vstack([np.zeros((H, H)), np.eye(H)]).astype(dt),
                "GH": np.empty((T, B, H), dtype=dt),  # d loss / d h_t (for the gradient-flow view)
                "DACT": np.empty((T, B, H), dtype=dt),  # act'(u_t)
            }
            b = self._buf
            R = b["R"]
            # Per-step views, made once: indexing costs as much as the arithmetic at batch 1.
            b["steps_fwd"] = [(Z[t], Z[t + 1, :, :H]) for t in range(T)]
            b["steps_bwd"] = [(R[t + 1], b["GH"][t], b["DACT"][t], R[t, :, :H]) for t in range(T - 1, -1, -1)]
            b["HO"] = np.empty((T, B, H + 1), dtype=dt)  # [h_t, 1] for t = 1..T, contiguous for the output layer
            b["Z_h1"] = Z[1:, :, : H + 1]  # where HO is copied from
            b["Z_in"] = Z[:T].reshape(T * B, K).T  # (K, T B): rows [h_{t-1}, 1, x_t] of every step, transposed
            b["R_out"] = R[1:, :, H:]  # the output layer's part of dL/dh_t
            b["R_da"] = R[:T, :, :H]  # da_t for t = 0..T-1
            b["hs"] = Z[1:, :, :H]  # h_1..h_T
            # 2-D views for the output layer: np.dot on 3-D arrays takes a slow non-BLAS path
            b["HO_2d"] = b["HO"].reshape(T * B, H + 1)
            b["Y_2d"] = b["Y"].reshape(T * B, self.n_out)
            b["DZ_2d"] = b["DZ"].reshape(T * B, self.n_out)
            if len(self._buf_cache) >= 3:  # keep the training shape and a couple of evaluation shapes
                self._buf_cache.pop(next(iter(self._buf_cache)))
            self._buf_cache[key] = b
            self._cache_key = key
        return self._buf

    # -- forward ----------------------------------------------------------------------------------------------
    def _forward_tm(self, T: int, B: int) -> dict:
        """Run the recurrence on the inputs already written into Z[:T, :, H+1:]; fills Z and Y."""
        buf = self._buf if self._cache_key == (T, B) else self._buffers(T, B)
        U, Y, HO = buf["U"], buf["Y"], buf["HO"]
        W_cat = self.params.W_cat
        act = activation(self.cell)
        dot = np.dot
        for z_t, h_next in buf["steps_fwd"]:
            dot(z_t, W_cat, out=U)
            act(U, out=h_next)
        np.copyto(HO, buf["Z_h1"])
        dot(buf["HO_2d"], self.params.W_out_cat, out=buf["Y_2d"])  # logits of every step at once, (T, B, n_out)
        sigmoid(Y, out=Y)
        return buf

    def _load_inputs(self, x: np.ndarray) -> tuple[int, int]:
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[2] != self.n_in:
            raise ValueError(f"x must have shape (B, T, {self.n_in}), got {x.shape}")
        B, T, _ = x.shape
        if T < 1 or B < 1:
            raise ValueError(f"x must hold at least one example and one time step, got shape {x.shape}")
        buf = self._buffers(T, B)
        buf["Z"][:T, :, self.n_hidden + 1 :] = x.transpose(1, 0, 2)
        return T, B

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x: (B, T, n_in) -> y: (B, T, n_out) sigmoid outputs, h: (B, T+1, H) hidden states with h[:, 0] == 0."""
        T, B = self._load_inputs(x)
        with np.errstate(over="ignore", invalid="ignore"):  # extreme weights: inf/NaN outputs, checked by callers
            buf = self._forward_tm(T, B)
        y = buf["Y"].transpose(1, 0, 2).copy()
        h = buf["Z"][:, :, : self.n_hidden].transpose(1, 0, 2).copy()
        return y, h

    # -- backward ---------------------------------------------------------------------------------------------
    def _backward_tm(self, target_tm: np.ndarray, loss: str) -> float:
        """BPTT on the buffers of the last _forward_tm. target_tm: (T, B, n_out). Fills self.grad; returns loss."""
        buf = self._buf
        Y, DZ, DACT = buf["Y"], buf["DZ"], buf["DACT"]
        T, B = Y.shape[0], Y.shape[1]
        H = self.n_hidden
        np.subtract(Y, target_tm, out=DZ)  # y - t
        if loss == "mse":
            value = 0.5 * float(np.vdot(DZ, DZ))
            DZ *= Y
            DZ *= 1.0 - Y  # d/dz 0.5 (y - t)^2 = (y - t) y (1 - y)
        elif loss == "bce":
            eps = np.finfo(self.dtype).tiny
            value = -float(
                np.sum(target_tm * np.log(Y + eps) + (1.0 - target_tm) * np.log(1.0 - Y + eps))
            )  # d/dz BCE(sigmoid(z)) = y - t, already in DZ
        else:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        hs = buf["hs"]
        if self.cell == "tanh":
            np.multiply(hs, hs, out=DACT)
            np.subtract(1.0, DACT, out=DACT)
        else:
            np.subtract(1.0, hs, out=DACT)
            DACT *= hs
        M = buf["M"]
        if self.n_out == 1:  # output layer's part of dL/dh_t for all steps, straight into R
            np.multiply(DZ, self.params["W_out"][:, 0], out=buf["R_out"])
        else:
            buf["R_out"][...] = np.dot(DZ, self.params["W_out"].T)
        M[:H] = self.params["W_rec"].T
        dot, mul = np.dot, np.multiply
        for r_next, gh, dact, da in buf["steps_bwd"]:  # t = T-1 .. 0
            dot(r_next, M, out=gh)  # dL/dh_t = g_t + da_{t+1} W_rec^T
            mul(gh, dact, out=da)  # da_t = dL/dh_t * act'(u_t)
        g_cat, g_out = self.grads.W_cat, self.grads.W_out_cat
        dot(buf["Z_in"], buf["R_da"].reshape(T * B, H), out=g_cat)
        if self.n_out == 1:  # (1, T B) @ (T B, H+1): a row-vector product, contiguous operands
            dot(buf["DZ_2d"].T, buf["HO_2d"], out=g_out.T)
        else:
            dot(buf["HO_2d"].T, buf["DZ_2d"], out=g_out)
        if not self.use_bias:
            g_cat[H] = 0.0
            g_out[H] = 0.0
        return value

    def forward_backward(self, x: np.ndarray, target: np.ndarray, loss: str = "mse") -> float:
        """One forward and backward pass. x: (B, T, n_in), target: (B, T, n_out) of 0/1.

        Returns the loss; the gradient is left in ``self.grad`` (flat) / ``self.grads`` (named views), the states
        in ``last_hidden()``, ``last_output()`` and ``grad_h_norms()`` until the next call.
        """
        T, B = self._load_inputs(x)
        target = np.asarray(target, dtype=self.dtype)
        if target.shape != (B, T, self.n_out):
            raise ValueError(f"target must have shape {(B, T, self.n_out)}, got {target.shape}")
        self._forward_tm(T, B)
        return self._backward_tm(target.transpose(1, 0, 2), loss)

    def loss_and_grads(self, x: np.ndarray, target: np.ndarray, loss: str = "mse"):
        """Loss (0.5 * sum((y - t)**2) over batch, time and outputs by default, or "bce") and its exact gradient.

        Returns (loss: float, grads: dict with the same keys and shapes as params, independent copies).
        """
        value = self.forward_backward(x, target, loss)
        return value, {k: np.array(v) for k, v in self.grads.items()}

    def last_hidden(self) -> np.ndarray:
        """h: (B, T+1, H) of the last forward_backward."""
        return self._buf["Z"][:, :, : self.n_hidden].transpose(1, 0, 2).copy()

    def last_output(self) -> np.ndarray:
        """y: (B, T, n_out) of the last forward_backward."""
        return self._buf["Y"].transpose(1, 0, 2).copy()

    def grad_h_norms(self) -> np.ndarray:
        """||dL/dh_t|| per time step t = 1..T of the last forward_backward, averaged over the batch: (T,)."""
        GH = self._buf["GH"]
        return np.sqrt(np.einsum("tbh,tbh->tb", GH, GH)).mean(axis=1)
