"""The Elman cell of the seed post (PyTorch's ``nn.RNN``), with exact backpropagation through time.

    h_t = act(x_t W_in + h_{t-1} W_rec + b_rec)     act = tanh (the post) or sigmoid (Trask's variant), h_0 = 0

Parameters W_in (n_in, H), W_rec (H, H), b_rec (H,): PyTorch's ``weight_ih_l0``/``weight_hh_l0`` transposed, its
two biases kept as one.

Exactness. The post's output layer *overwrites* its weight gradient at every time step (``grad_w = x.T @ delta``)
instead of adding to it; its backward loop runs from the last step to the first, so only the first time step's
contribution reaches the update of W_out and b_out. Here the output gradient is the sum over all time steps, which is
the true derivative of the loss; ``tests/test_gradients.py`` proves it against finite differences.

Speed. One training step at batch 1 is dominated by numpy's per-call overhead, not by arithmetic, so the compiled
passes minimise calls: the state buffer ``Z[t] = [h_{t-1}, 1, x_t]`` and the stacked matrix
``W_cat = [W_rec; b_rec; W_in]`` (the flat layout) make a step's pre-activation one product and the three weight
gradients one product over all steps; closures over prebuilt views look nothing up (see ``rnn_core/fastnp.py``).
"""

from __future__ import annotations

import numpy as np

from rnn_core import fastnp
from rnn_core.model import INITS, LOSSES, ONE_BIAS_TORCH_LAYOUT, Pass, RecurrentModel, sigmoid

ACTIVATIONS = ("tanh", "sigmoid")


class ElmanRNN(RecurrentModel):
    """Elman RNN with parameters W_in (n_in, H), W_rec (H, H), b_rec (H,), W_out (H, n_out), b_out (n_out,).

    rng: the random generator for initialisation (``np.random.Generator``, or a legacy ``RandomState`` for the
    Trask preset). init "normal": N(0, 1)/sqrt(fan_in) weights, drawn W_in, W_rec, W_out (the post's order);
    "uniform": uniform [-1, 1) drawn W_in, W_out, W_rec (Trask's order). Biases start at zero; with
    ``use_bias=False`` they stay zero (their gradient is held at zero). activation: "tanh" or "sigmoid".
    """

    cell = "elman"
    state_names = ("h",)
    n_gates = 1
    work = 1
    options = ("activation", "use_bias", "init")
    torch_layout = ONE_BIAS_TORCH_LAYOUT

    def __init__(
        self,
        n_in: int,
        n_hidden: int,
        n_out: int = 1,
        rng: np.random.Generator | np.random.RandomState | None = None,
        *,
        activation: str = "tanh",
        use_bias: bool = True,
        init: str = "normal",
        dtype=np.float64,
    ):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        self.activation, self.use_bias, self.init = activation, bool(use_bias), init
        self.state_range = (-1.0, 1.0) if activation == "tanh" else (0.0, 1.0)
        super().__init__(n_in, n_hidden, n_out, dtype=dtype)
        self._init_weights(rng if rng is not None else np.random.default_rng())

    # -- parameter layout -------------------------------------------------------------------------------------
    @classmethod
    def _cell_shapes(cls, n_in: int, n_hidden: int) -> dict[str, tuple[int, ...]]:
        return {"W_in": (n_in, n_hidden), "W_rec": (n_hidden, n_hidden), "b_rec": (n_hidden,)}

    def _cell_views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        H = self.n_hidden
        W_cat = flat.reshape(H + 1 + self.n_in, H)  # rows: W_rec (H), b_rec (1), W_in (n_in)
        return {"W_in": W_cat[H + 1 :], "W_rec": W_cat[:H], "b_rec": W_cat[H]}

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

    def recurrent_matrix(self) -> np.ndarray:
        return self.params["W_rec"]

    def _act(self):
        return np.tanh if self.activation == "tanh" else sigmoid

    # -- the plain path ---------------------------------------------------------------------------------------
    def input_projection(self, x: np.ndarray) -> np.ndarray:
        return x @ self.params["W_in"] + self.params["b_rec"]

    def recur(self, state: dict[str, np.ndarray]) -> np.ndarray:
        return state["h"] @ self.params["W_rec"]

    def combine(self, proj, rec, state) -> dict[str, np.ndarray]:
        # in place into rec where the shapes allow: a fresh array of the largest prefix level costs page faults
        u = np.add(rec, proj, out=rec) if rec.shape == np.broadcast_shapes(rec.shape, proj.shape) else rec + proj
        return {"h": self._act()(u, out=u)}

    def _reference_backward(self, x, states, dh_out) -> dict[str, np.ndarray]:
        p, hs = self.params, states["h"]
        B, T, _ = x.shape
        g = {k: np.zeros_like(p[k]) for k in ("W_in", "W_rec", "b_rec")}
        dh_next = np.zeros((B, self.n_hidden), dtype=self.dtype)
        for t in range(T - 1, -1, -1):
            h = hs[:, t + 1]
            dh = dh_out[:, t] + dh_next
            da = dh * (1.0 - h * h) if self.activation == "tanh" else dh * h * (1.0 - h)
            g["W_in"] += x[:, t].T @ da
            g["W_rec"] += hs[:, t].T @ da
            g["b_rec"] += da.sum(axis=0)
            dh_next = da @ p["W_rec"].T
        if not self.use_bias:
            g["b_rec"][...] = 0.0
        return g

    # -- the compiled passes ----------------------------------------------------------------------------------
    def _compile(self, T: int, B: int) -> Pass:
        H, K, dt = self.n_hidden, self.n_hidden + 1 + self.n_in, self.dtype
        Z = np.zeros((T + 1, B, K), dtype=dt)  # Z[t] = [h_{t-1}, 1, x_t]; Z[T, :, :H] = h_T
        Z[:, :, H] = 1.0
        # R[t] = [da_t, g_{t-1}]: d loss / d pre-activation at step t beside the output layer's part of
        # d loss / d h_{t-1}, so that one product with M = [W_rec^T; I] gives the whole dL/dh of a step.
        R = np.zeros((T + 1, B, 2 * H), dtype=dt)
        Y = np.empty((T, B, self.n_out), dtype=dt)
        GH = np.empty((T, B, H), dtype=dt)  # d loss / d h_t (for the gradient-flow view)
        HO_2d = Z[1:].reshape(T * B, K)[:, : H + 1]  # rows [h_t, 1] for t = 1..T: a strided view BLAS reads as is
        readout, loss_grad, out_grads = self._readout_and_loss(T, B, HO_2d, Y, R[1:, :, H:])
        forward = self._compile_forward(Z, T, readout)
        backward = {loss: self._compile_backward(Z, R, GH, T, B, loss, loss_grad, out_grads) for loss in LOSSES}
        return Pass(Z[:T, :, H + 1 :], Y, {"h": Z[:, :, :H]}, GH, forward, backward)

    def _compile_forward(self, Z: np.ndarray, T: int, readout):
        """forward(): the recurrence on the inputs already written into Z[:T, :, H+1:]; fills Z and Y."""
        H = self.n_hidden
        U = np.empty((Z.shape[1], H), dtype=self.dtype)  # pre-activation of one step
        W_cat = self.theta[: Z.shape[2] * H].reshape(Z.shape[2], H)
        steps = tuple((Z[t], Z[t + 1, :, :H]) for t in range(T))
        act = self._act()
        dot = fastnp.dot

        def forward() -> None:
            for z_t, h_next in steps:
                dot(z_t, W_cat, U)  # u_t = [h_{t-1}, 1, x_t] @ [W_rec; b_rec; W_in]
                act(U, h_next)
            readout()

        return forward

    def _compile_backward(self, Z, R, GH, T: int, B: int, loss: str, loss_grad, out_grads):
        """backward(target_tm) -> loss: BPTT on the buffers of the last forward(); fills self.grad."""
        H, K, dt = self.n_hidden, Z.shape[2], self.dtype
        DACT = np.empty((T, B, H), dtype=dt)  # act'(u_t)
        M = np.vstack([np.zeros((H, H)), np.eye(H)]).astype(dt)
        hs = Z[1:, :, :H]  # h_1..h_T
        Z_in = Z[:T].reshape(T * B, K).T  # (K, T B): rows [h_{t-1}, 1, x_t] of every step, transposed
        R_da = R[:T, :, :H].reshape(T * B, H)  # da_t for t = 0..T-1
        steps = tuple((R[t + 1], GH[t], DACT[t], R[t, :, :H]) for t in range(T - 1, -1, -1))
        M_top, W_rec_T = M[:H], self.params["W_rec"].T
        g_cat = self.grad[: K * H].reshape(K, H)
        tanh_cell, use_bias = self.activation == "tanh", self.use_bias
        dot, mul, sub, copyto = fastnp.dot, np.multiply, np.subtract, fastnp.copyto
        one = fastnp.constant(1.0, dt)
        g_out = self.grads.W_out_cat

        def backward(target_tm: np.ndarray) -> float:
            value = loss_grad(target_tm, loss)  # also the output layer's part of dL/dh_t, into R
            if tanh_cell:
                mul(hs, hs, DACT)
                sub(one, DACT, DACT)
            else:
                sub(one, hs, DACT)
                mul(DACT, hs, DACT)
            copyto(M_top, W_rec_T)
            for r_next, gh, dact, da in steps:  # t = T-1 .. 0
                dot(r_next, M, gh)  # dL/dh_t = g_t + da_{t+1} W_rec^T
                mul(gh, dact, da)  # da_t = dL/dh_t * act'(u_t)
            dot(Z_in, R_da, g_cat)
            out_grads()
            if not use_bias:
                g_cat[H] = 0.0
                g_out[H] = 0.0
            return value

        return backward
