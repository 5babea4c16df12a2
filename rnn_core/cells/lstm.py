"""The LSTM cell, PyTorch's ``nn.LSTM`` equations (gate order i, f, g, o):

    [i, f, g, o]_t = [sigmoid, sigmoid, tanh, sigmoid](x_t W_in + h_{t-1} W_rec + b_rec)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

Parameters W_in (n_in, 4H), W_rec (H, 4H), b_rec (4H,): PyTorch's weight_ih_l0 and weight_hh_l0 transposed, its
two biases kept as one (they are only ever added). The forget gate's bias starts at ``forget_bias`` (1 keeps the
cell state at the start of training, a common choice).

Compiled passes: the Elman cell's layout, ``[h_{t-1}, 1, x_t] @ [W_rec; b_rec; W_in]`` one product a step; the
four gate nonlinearities in four calls (``tanh(a * s) * s + o`` with s = 1/2 and o = 1/2 for the sigmoid gates,
s = 1 and o = 0 for g); the backward pass precomputes the gate derivatives for all steps, leaving six calls a step.
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
        H, G, n_in, dt = self.n_hidden, 4 * self.n_hidden, self.n_in, self.dtype
        K = H + 1 + n_in
        Z = np.zeros((T + 1, B, K), dtype=dt)  # Z[t] = [h_{t-1}, 1, x_t]; Z[T, :, :H] = h_T
        Z[:, :, H] = 1.0
        A = np.empty((T, B, G), dtype=dt)  # the gates i, f, g, o
        C = np.zeros((T + 1, B, H), dtype=dt)  # c_t
        TC = np.empty((T, B, H), dtype=dt)  # tanh(c_t), t = 1..T
        TMP = np.empty((B, H), dtype=dt)
        Y = np.empty((T, B, self.n_out), dtype=dt)
        R = np.zeros((T + 1, B, G + H), dtype=dt)  # [dL/da_t | the read-out's part of dL/dh_t]
        GH = np.zeros((T, B, H), dtype=dt)
        HO_2d = Z[1:].reshape(T * B, K)[:, : H + 1]
        readout, loss_grad, out_grads = self._readout_and_loss(T, B, HO_2d, Y, R[1:, :, G:])
        W_cat = self.theta[: K * G].reshape(K, G)
        scale = np.full(G, 0.5, dtype=dt)
        scale[2 * H : 3 * H] = 1.0
        offset = np.full(G, 0.5, dtype=dt)
        offset[2 * H : 3 * H] = 0.0
        dot, add, mul, tanh = fastnp.dot, np.add, np.multiply, np.tanh
        steps = tuple(
            (
                Z[t],
                A[t],
                A[t, :, :H],
                A[t, :, H : 2 * H],
                A[t, :, 2 * H : 3 * H],
                A[t, :, 3 * H :],
                C[t],
                C[t + 1],
                TC[t],
                Z[t + 1, :, :H],
            )
            for t in range(T)
        )

        def forward() -> None:
            for z_t, a, i, f, g, o, c_prev, c, tc, h_next in steps:
                dot(z_t, W_cat, a)  # [h_{t-1}, 1, x_t] @ [W_rec; b_rec; W_in]
                mul(a, scale, a)  # sigmoid(a) = 0.5 tanh(a / 2) + 0.5 for i, f, o; tanh(a) for g
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
        return Pass(Z[:T, :, H + 1 :], Y, {"h": Z[:, :, :H], "c": C}, GH, forward, backward)

    def _compile_backward(self, T, B, Z, A, C, TC, R, GH, loss, loss_grad, out_grads):
        H, G, dt = self.n_hidden, 4 * self.n_hidden, self.dtype
        K = H + 1 + self.n_in
        i, f, g, o = (A[:, :, k * H : (k + 1) * H] for k in range(4))
        Q = np.empty((T, B, 3, H), dtype=dt)  # dL/da_{i,f,g} per unit of dL/dc_t: g i(1-i), c_{t-1} f(1-f), i(1-g^2)
        QO = np.empty((T, B, H), dtype=dt)  # dL/da_o per unit of dL/dh_t: tanh(c_t) o (1 - o)
        P = np.empty((T, B, H), dtype=dt)  # dL/dc_t per unit of dL/dh_t: o (1 - tanh(c_t)^2)
        W1 = np.empty((T, B, H), dtype=dt)
        DC, TMP = np.zeros((B, H), dtype=dt), np.empty((B, H), dtype=dt)
        M = np.zeros((G + H, H), dtype=dt)
        M[G:] = np.eye(H)
        W_rec_T = self.params["W_rec"].T
        g_cat = self.grad[: K * G].reshape(K, G)
        Z_in = Z[:T].reshape(T * B, K).T
        R_da = R[:T].reshape(T * B, G + H)[:, :G]
        DC_b = DC[:, None, :]
        steps = tuple(
            (
                GH[t],
                QO[t],
                R[t, :, 3 * H : G],
                P[t],
                Q[t],
                R[t, :, : 3 * H].reshape(B, 3, H),
                A[t, :, H : 2 * H],
                R[t],
                GH[t - 1] if t else None,
            )
            for t in range(T - 1, -1, -1)
        )
        dot, add, sub, mul, copyto = fastnp.dot, np.add, np.subtract, np.multiply, fastnp.copyto
        one = fastnp.constant(1.0, dt)
        C_prev = C[:T]

        def backward(target_tm: np.ndarray) -> float:
            value = loss_grad(target_tm, loss)
            sub(one, o, QO)  # QO = tanh(c) o (1 - o)
            mul(QO, o, QO)
            mul(QO, TC, QO)
            mul(TC, TC, P)  # P = o (1 - tanh(c)^2)
            sub(one, P, P)
            mul(P, o, P)
            sub(one, i, W1)  # g i (1 - i)
            mul(W1, i, W1)
            mul(W1, g, Q[:, :, 0])
            sub(one, f, W1)  # c_{t-1} f (1 - f)
            mul(W1, f, W1)
            mul(W1, C_prev, Q[:, :, 1])
            mul(g, g, W1)  # i (1 - g^2)
            sub(one, W1, W1)
            mul(W1, i, Q[:, :, 2])
            copyto(M[:G], W_rec_T)
            copyto(GH[T - 1], R[T, :, G:])
            DC.fill(0.0)
            for gh, qo, da_o, p, q, da_ifg, f_t, r_row, gh_prev in steps:  # t = T-1 .. 0
                mul(gh, qo, da_o)
                mul(gh, p, TMP)
                add(DC, TMP, DC)  # dL/dc_t
                mul(DC_b, q, da_ifg)
                mul(DC, f_t, DC)  # dL/dc_{t-1} through c_t = f c_{t-1} + ...
                if gh_prev is not None:
                    dot(r_row, M, gh_prev)  # da_t W_rec^T + the read-out's part of dL/dh_{t-1}
            dot(Z_in, R_da, g_cat)
            out_grads()
            return value

        return backward
