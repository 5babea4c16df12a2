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
  whole model in a couple of calls;
- the passes for a (T, B) shape are closures over prebuilt views of that shape's buffers (``_buffers``), so a step
  looks nothing up: about 50 numpy calls in all at batch 1, 16 of them the forward recurrence and 16 the backward.
- those calls skip numpy's ``__array_function__`` dispatcher and take 0-d arrays instead of Python floats
  (``rnn_core/fastnp.py``): each would add about 0.2 us to a call of 0.3-0.6 us.
Assigning a new array to ``model.params[name]`` copies it into that view, so it takes effect in the next forward.
"""

from __future__ import annotations

import numpy as np

from rnn_core import fastnp

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

    # -- buffers and the compiled passes ----------------------------------------------------------------------
    def _buffers(self, T: int, B: int) -> dict:
        """Work arrays and compiled passes for a (T, B) sequence batch, reused between calls of the same shape."""
        key = (T, B)
        if self._cache_key != key:
            cached = self._buf_cache.get(key)
            if cached is None:
                cached = self._make_buffers(T, B)
                if len(self._buf_cache) >= 3:  # keep the training shape and a couple of evaluation shapes
                    self._buf_cache.pop(next(iter(self._buf_cache)))
                self._buf_cache[key] = cached
            self._buf, self._cache_key = cached, key
        return self._buf

    def _make_buffers(self, T: int, B: int) -> dict:
        H, K, n_out, dt = self.n_hidden, self.k_in, self.n_out, self.dtype
        Z = np.zeros((T + 1, B, K), dtype=dt)  # Z[t] = [h_{t-1}, 1, x_t]; Z[T, :, :H] = h_T
        Z[:, :, H] = 1.0
        # R[t] = [da_t, g_{t-1}]: d loss / d pre-activation at step t beside the output layer's part of
        # d loss / d h_{t-1}, so that one product with M = [W_rec^T; I] gives the whole dL/dh of a step.
        R = np.zeros((T + 1, B, 2 * H), dtype=dt)
        buf = {
            "Z": Z,
            "R": R,
            "U": np.empty((B, H), dtype=dt),  # pre-activation of one step
            "Y": np.empty((T, B, n_out), dtype=dt),  # outputs, time-major
            "DZ": np.empty((T, B, n_out), dtype=dt),  # d loss / d output logits
            "TMP": np.empty((T, B, n_out), dtype=dt),  # scratch of the loss gradient
            "M": np.vstack([np.zeros((H, H)), np.eye(H)]).astype(dt),
            "GH": np.empty((T, B, H), dtype=dt),  # d loss / d h_t (for the gradient-flow view)
            "DACT": np.empty((T, B, H), dtype=dt),  # act'(u_t)
        }
        buf["forward"] = self._compile_forward(buf, T, B)
        buf["backward"] = {loss: self._compile_backward(buf, T, B, loss) for loss in LOSSES}
        return buf

    def _compile_forward(self, buf: dict, T: int, B: int):
        """forward(): the recurrence on the inputs already written into Z[:T, :, H+1:]; fills Z and Y.

        A closure over prebuilt views: at batch 1 a step is a handful of numpy calls of ~1 us each, and looking up
        buffers, attributes or building views would cost as much again."""
        H, K = self.n_hidden, self.k_in
        Z, U, Y = buf["Z"], buf["U"], buf["Y"]
        Y_2d = Y.reshape(T * B, self.n_out)
        HO_2d = Z[1:].reshape(T * B, K)[:, : H + 1]  # rows [h_t, 1] for t = 1..T: a strided view BLAS reads as is
        W_cat, W_out_cat = self.params.W_cat, self.params.W_out_cat
        steps = tuple((Z[t], Z[t + 1, :, :H]) for t in range(T))
        act = activation(self.cell)
        dot, mul, add, tanh = fastnp.dot, np.multiply, np.add, np.tanh
        half = fastnp.constant(0.5, self.dtype)

        def forward() -> None:
            for z_t, h_next in steps:
                dot(z_t, W_cat, U)  # u_t = [h_{t-1}, 1, x_t] @ [W_rec; b_rec; W_in]
                act(U, h_next)
            dot(HO_2d, W_out_cat, Y_2d)  # logits of every step at once
            mul(Y, half, Y)  # sigmoid(z) = 0.5 tanh(z / 2) + 0.5, inline: it is 4 calls
            tanh(Y, Y)
            mul(Y, half, Y)
            add(Y, half, Y)

        return forward

    def _compile_backward(self, buf: dict, T: int, B: int, loss: str):
        """backward(target_tm) -> loss: BPTT on the buffers of the last forward(); fills self.grad.

        target_tm: (T, B, n_out) of 0/1, time-major."""
        H, K, n_out = self.n_hidden, self.k_in, self.n_out
        Z, R, Y, DZ, TMP, DACT, M = (buf[k] for k in ("Z", "R", "Y", "DZ", "TMP", "DACT", "M"))
        hs = Z[1:, :, :H]  # h_1..h_T
        HO_2d = Z[1:].reshape(T * B, K)[:, : H + 1]
        Z_in = Z[:T].reshape(T * B, K).T  # (K, T B): rows [h_{t-1}, 1, x_t] of every step, transposed
        R_da = R[:T, :, :H].reshape(T * B, H)  # da_t for t = 0..T-1
        R_out = R[1:, :, H:]  # the output layer's part of dL/dh_t
        DZ_2d = DZ.reshape(T * B, n_out)
        steps = tuple((R[t + 1], buf["GH"][t], DACT[t], R[t, :, :H]) for t in range(T - 1, -1, -1))
        M_top, W_rec_T = M[:H], self.params["W_rec"].T
        W_out = self.params["W_out"]
        w_out_row = W_out[:, 0]
        g_cat, g_out = self.grads.W_cat, self.grads.W_out_cat
        tanh_cell, use_bias = self.cell == "tanh", self.use_bias
        tiny = np.finfo(self.dtype).tiny
        dot, mul, sub, vdot, copyto = fastnp.dot, np.multiply, np.subtract, fastnp.vdot, fastnp.copyto
        one = fastnp.constant(1.0, self.dtype)

        def backward(target_tm: np.ndarray) -> float:
            sub(Y, target_tm, DZ)  # y - t
            if loss == "mse":
                value = 0.5 * float(vdot(DZ, DZ))
                mul(DZ, Y, DZ)
                sub(one, Y, TMP)
                mul(DZ, TMP, DZ)  # d/dz 0.5 (y - t)^2 = (y - t) y (1 - y)
            else:  # d/dz BCE(sigmoid(z)) = y - t, already in DZ
                value = -float(np.sum(target_tm * np.log(Y + tiny) + (1.0 - target_tm) * np.log(1.0 - Y + tiny)))
            if tanh_cell:
                mul(hs, hs, DACT)
                sub(one, DACT, DACT)
            else:
                sub(one, hs, DACT)
                mul(DACT, hs, DACT)
            if n_out == 1:  # output layer's part of dL/dh_t for all steps, straight into R
                mul(DZ, w_out_row, R_out)
            else:
                R_out[...] = dot(DZ, W_out.T)
            copyto(M_top, W_rec_T)
            for r_next, gh, dact, da in steps:  # t = T-1 .. 0
                dot(r_next, M, gh)  # dL/dh_t = g_t + da_{t+1} W_rec^T
                mul(gh, dact, da)  # da_t = dL/dh_t * act'(u_t)
            dot(Z_in, R_da, g_cat)
            if n_out == 1:  # (1, T B) @ (T B, H+1): a row-vector product into the (H+1, 1) gradient, transposed
                dot(DZ_2d.T, HO_2d, g_out.T)
            else:
                dot(HO_2d.T, DZ_2d, g_out)
            if not use_bias:
                g_cat[H] = 0.0
                g_out[H] = 0.0
            return value

        return backward

    # -- forward ----------------------------------------------------------------------------------------------
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
        self._load_inputs(x)
        buf = self._buf
        with np.errstate(over="ignore", invalid="ignore"):  # extreme weights: inf/NaN outputs, checked by callers
            buf["forward"]()
        y = buf["Y"].transpose(1, 0, 2).copy()
        h = buf["Z"][:, :, : self.n_hidden].transpose(1, 0, 2).copy()
        return y, h

    def forward_backward(self, x: np.ndarray, target: np.ndarray, loss: str = "mse") -> float:
        """One forward and backward pass. x: (B, T, n_in), target: (B, T, n_out) of 0/1.

        Returns the loss; the gradient is left in ``self.grad`` (flat) / ``self.grads`` (named views), the states
        in ``last_hidden()``, ``last_output()`` and ``grad_h_norms()`` until the next call.
        """
        T, B = self._load_inputs(x)
        target = np.asarray(target, dtype=self.dtype)
        if target.shape != (B, T, self.n_out):
            raise ValueError(f"target must have shape {(B, T, self.n_out)}, got {target.shape}")
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        buf = self._buf
        buf["forward"]()
        return buf["backward"][loss](target.transpose(1, 0, 2))

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
