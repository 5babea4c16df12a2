"""The LSTM cell, PyTorch's ``nn.LSTM`` equations (gate order i, f, g, o):

    [i, f, g, o]_t = [sigmoid, sigmoid, tanh, sigmoid](x_t W_in + h_{t-1} W_rec + b_rec)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

Parameters W_in (n_in, 4H), W_rec (H, 4H), b_rec (4H,): PyTorch's weight_ih_l0 and weight_hh_l0 transposed, its
two biases kept as one (they are only ever added). The forget gate's bias starts at ``forget_bias`` (1 keeps the
cell state at the start of training, a common choice).

Compiled passes: one product a step, ``[W_rec; b_rec; W_in]^T [h_t; 1; x_t]``, feature-major (each gate a
contiguous (H, B) block); the four gate nonlinearities in three calls (``tanh(a s) s + o``, s = 1/2 and o = 1/2
for the sigmoid gates, s = 1 and o = 0 for g, with s folded exactly into the weights once per pass); the backward
pass precomputes the gate derivatives for all steps, leaving six calls a step.
"""

from __future__ import annotations

import numpy as np

from rnn_core import fastnp
from rnn_core.model import LOSSES, ONE_BIAS_TORCH_LAYOUT, Pass, RecurrentModel, init_gated, sigmoid


class LSTM(RecurrentModel):
    """LSTM cell with a sigmoid read-out. init: "normal" (N(0, 1)/sqrt(fan_in) weights, zero biases but the forget
    gate's, which is ``forget_bias``) or "torch" (PyTorch's default, forget_bias unused)."""

    cell = "lstm"
    state_names = ("h", "c")
    n_gates = 4
    work = 4
    state_range = (-1.0, 1.0)
    options = ("init", "forget_bias")
    blocks = ("input", "forget", "candidate", "output")
    gate_names = ("input", "forget", "output")
    torch_layout = ONE_BIAS_TORCH_LAYOUT

    def __init__(
        self, n_in, n_hidden, n_out=1, rng=None, *, init: str = "normal", forget_bias: float = 1.0, dtype=np.float64
    ):
        super().__init__(n_in, n_hidden, n_out, dtype=dtype)
        self.init, self.forget_bias = init, float(forget_bias)
        H = self.n_hidden
        bias = np.zeros(4 * H)
        bias[H : 2 * H] = self.forget_bias
        init_gated(self, rng if rng is not None else np.random.default_rng(), init, {"b_rec": bias})

    @classmethod
    def _cell_shapes(cls, n_in: int, n_hidden: int) -> dict[str, tuple[int, ...]]:
        G = 4 * n_hidden
        return {"W_in": (n_in, G), "W_rec": (n_hidden, G), "b_rec": (G,)}

    def _cell_views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        H = self.n_hidden
        W_cat = flat.reshape(H + 1 + self.n_in, 4 * H)  # rows: W_rec (H), b_rec (1), W_in (n_in)
        return {"W_in": W_cat[H + 1 :], "W_rec": W_cat[:H], "b_rec": W_cat[H]}

    # -- the plain path ---------------------------------------------------------------------------------------
    def input_projection(self, x: np.ndarray) -> np.ndarray:
        return x @ self.params["W_in"] + self.params["b_rec"]

    def recur(self, state: dict[str, np.ndarray]) -> np.ndarray:
        return state["h"] @ self.params["W_rec"]

    def _gates(self, a):
        H = self.n_hidden
        return sigmoid(a[..., :H]), sigmoid(a[..., H : 2 * H]), np.tanh(a[..., 2 * H : 3 * H]), sigmoid(a[..., 3 * H :])

    def gates(self, proj, rec) -> dict[str, np.ndarray]:
        i, f, _, o = self._gates(proj + rec)
        return {"input": i, "forget": f, "output": o}

    def combine(self, proj, rec, state) -> dict[str, np.ndarray]:
        i, f, g, o = self._gates(proj + rec)
        c = f * state["c"] + i * g
        return {"h": o * np.tanh(c), "c": c}

    def _reference_backward(self, x, states, dh_out) -> dict[str, np.ndarray]:
        p, hs, cs = self.params, states["h"], states["c"]
        B, T, _ = x.shape
        g = {k: np.zeros_like(p[k]) for k in ("W_in", "W_rec", "b_rec")}
        proj = self.input_projection(x)
        dh_next = np.zeros((B, self.n_hidden), dtype=self.dtype)
        dc = np.zeros((B, self.n_hidden), dtype=self.dtype)
        for t in range(T - 1, -1, -1):
            i, f, gg, o = self._gates(proj[:, t] + self.recur({"h": hs[:, t]}))
            tc = np.tanh(cs[:, t + 1])
            dh = dh_out[:, t] + dh_next
            dc = dc + dh * o * (1.0 - tc * tc)
            da = np.concatenate(
                [
                    dc * gg * i * (1.0 - i),
                    dc * cs[:, t] * f * (1.0 - f),
                    dc * i * (1.0 - gg * gg),
                    dh * tc * o * (1.0 - o),
                ],
                axis=1,
            )
            g["W_in"] += x[:, t].T @ da
            g["W_rec"] += hs[:, t].T @ da
            g["b_rec"] += da.sum(axis=0)
            dh_next = da @ p["W_rec"].T
            dc = dc * f
        return g

    # -- the compiled passes ----------------------------------------------------------------------------------
    def _compile(self, T: int, B: int) -> Pass:
        """The passes in a feature-major layout: a step's arrays are (features, B), so each gate is a contiguous
        (H, B) block (elementwise calls on (B, H) column slices of (B, 4H) rows run several times slower)."""
        H, G, n_in, dt = self.n_hidden, 4 * self.n_hidden, self.n_in, self.dtype
        K = H + 1 + n_in
        Z = np.zeros((K, T + 1, B), dtype=dt)  # Z[:, t] = [h_t; 1; x_t] (h_t the state before input t)
        Z[H] = 1.0
        A = np.empty((T, G, B), dtype=dt)  # the gates i, f, g, o of each step
        C = np.zeros((T + 1, H, B), dtype=dt)  # c_t
        TC = np.empty((T, H, B), dtype=dt)  # tanh(c_t), t = 1..T
        TMP = np.empty((H, B), dtype=dt)
        Y = np.empty((T, B, self.n_out), dtype=dt)
        R = np.zeros((G + H, T + 1, B), dtype=dt)  # R[:, t] = [dL/da_t; the read-out's part of dL/dh_t]
        GH = np.zeros((T, H, B), dtype=dt)  # dL/dh_t, t = 1..T
        HO = Z[: H + 1, 1:].reshape(H + 1, T * B)  # [h_t; 1] for t = 1..T, every sample: a view
        assert np.shares_memory(HO, Z)
        readout, loss_grad, out_grads = self._readout_and_loss(
            T, B, HO.T, Y, R[G:, 1:].transpose(1, 2, 0), feature_major=True
        )
        W_T = self.theta[: K * G].reshape(K, G).T  # (G, K): [W_rec; b_rec; W_in] transposed
        W_Ts = np.empty((G, K), dtype=dt)  # W_T with the sigmoid gates' rows halved (exact: a power of two)
        scale = np.full((G, 1), 0.5, dtype=dt)
        scale[2 * H : 3 * H] = 1.0
        offset = np.full((G, 1), 0.5, dtype=dt)
        offset[2 * H : 3 * H] = 0.0
        dot, add, mul, tanh = fastnp.dot, np.add, np.multiply, np.tanh
        steps = tuple(
            (Z[:, t], A[t], A[t, :H], A[t, H : 2 * H], A[t, 2 * H : 3 * H], A[t, 3 * H :], C[t], C[t + 1], TC[t],
             Z[:H, t + 1])
            for t in range(T)
        )  # fmt: skip

        def forward() -> None:
            mul(W_T, scale, W_Ts)  # sigmoid(a) = 0.5 tanh(a / 2) + 0.5 for i, f, o; tanh(a) for g
            for z_t, a, i, f, g, o, c_prev, c, tc, h_next in steps:
                dot(W_Ts, z_t, a)  # [W_rec; b_rec; W_in]^T [h_t; 1; x_t], the sigmoid gates' halved
                tanh(a, a)
                mul(a, scale, a)
                add(a, offset, a)
                mul(f, c_prev, c)
                mul(i, g, TMP)
                add(c, TMP, c)
                tanh(c, tc)
                mul(o, tc, h_next)
            readout()

        backward = {
            loss: self._compile_backward(T, B, Z, A, C, TC, R, GH, loss, loss_grad, out_grads) for loss in LOSSES
        }
        states = {"h": Z[:H].transpose(1, 2, 0), "c": C.transpose(0, 2, 1)}
        return Pass(Z[H + 1 :, :T].transpose(1, 2, 0), Y, states, GH.transpose(0, 2, 1), forward, backward)

    def _compile_backward(self, T, B, Z, A, C, TC, R, GH, loss, loss_grad, out_grads):
        H, G, dt = self.n_hidden, 4 * self.n_hidden, self.dtype
        K = H + 1 + self.n_in
        i, f, g, o = (A[:, k * H : (k + 1) * H] for k in range(4))
        Q = np.empty((T, 3, H, B), dtype=dt)  # dL/da_{i,f,g} per unit of dL/dc_t: g i(1-i), c_{t-1} f(1-f), i(1-g^2)
        QO = np.empty((T, H, B), dtype=dt)  # dL/da_o per unit of dL/dh_t: tanh(c_t) o (1 - o)
        P = np.empty((T, H, B), dtype=dt)  # dL/dc_t per unit of dL/dh_t: o (1 - tanh(c_t)^2)
        W1 = np.empty((T, H, B), dtype=dt)
        DC, TMP = np.zeros((H, B), dtype=dt), np.empty((H, B), dtype=dt)
        MT = np.zeros((H, G + H), dtype=dt)  # [W_rec, I]: dL/dh_{t-1} = MT @ R[:, t] (with the read-out's part)
        MT[:, G:] = np.eye(H)
        W_rec = self.params["W_rec"]
        g_cat = self.grad[: K * G].reshape(K, G)
        g_cat_T = np.empty((G, K), dtype=dt)  # (G, T B) @ (T B, K) is faster in BLAS than (K, T B) @ (T B, G)
        Z_in_T = Z[:, :T].reshape(K, T * B).T  # [h_t; 1; x_t] of every step and sample: a view
        DA = R[:G, :T].reshape(G, T * B)
        assert np.shares_memory(Z_in_T, Z) and np.shares_memory(DA, R)
        steps = tuple(
            (GH[t], QO[t], R[3 * H : G, t], P[t], Q[t], R[: 3 * H, t].reshape(3, H, B), A[t, H : 2 * H], R[:, t],
             GH[t - 1] if t else None)
            for t in range(T - 1, -1, -1)
        )  # fmt: skip
        dot, add, sub, mul, copyto = fastnp.dot, np.add, np.subtract, np.multiply, fastnp.copyto
        one = fastnp.constant(1.0, dt)
        C_prev = C[:T]

        def backward(target_tm: np.ndarray) -> float:
            value = loss_grad(target_tm, loss)  # the read-out's part of dL/dh_t, into R[G:, 1:]
            sub(one, o, QO)  # QO = tanh(c) o (1 - o)
            mul(QO, o, QO)
            mul(QO, TC, QO)
            mul(TC, TC, P)  # P = o (1 - tanh(c)^2)
            sub(one, P, P)
            mul(P, o, P)
            sub(one, i, W1)  # g i (1 - i)
            mul(W1, i, W1)
            mul(W1, g, Q[:, 0])
            sub(one, f, W1)  # c_{t-1} f (1 - f)
            mul(W1, f, W1)
            mul(W1, C_prev, Q[:, 1])
            mul(g, g, W1)  # i (1 - g^2)
            sub(one, W1, W1)
            mul(W1, i, Q[:, 2])
            copyto(MT[:, :G], W_rec)
            copyto(GH[T - 1], R[G:, T])
            DC.fill(0.0)
            for gh, qo, da_o, p, q, da_ifg, f_t, r_col, gh_prev in steps:  # t = T-1 .. 0
                mul(gh, qo, da_o)
                mul(gh, p, TMP)
                add(DC, TMP, DC)  # dL/dc_t
                mul(DC, q, da_ifg)
                mul(DC, f_t, DC)  # dL/dc_{t-1} through c_t = f c_{t-1} + ...
                if gh_prev is not None:
                    dot(MT, r_col, gh_prev)  # W_rec dL/da_t + the read-out's part of dL/dh_{t-1}
            dot(DA, Z_in_T, g_cat_T)
            copyto(g_cat, g_cat_T.T)
            out_grads()
            return value

        return backward
