"""The GRU cell, PyTorch's ``nn.GRU`` equations (gate order r, z, n):

    r_t = sigmoid(x_t W_ir + b_ir + h_{t-1} W_hr + b_hr)
    z_t = sigmoid(x_t W_iz + b_iz + h_{t-1} W_hz + b_hz)
    n_t = tanh(x_t W_in + b_in + r_t * (h_{t-1} W_hn + b_hn))     the reset gate after the recurrent product
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

Parameters W_in (n_in, 3H), b_in (3H,), W_rec (H, 3H), b_rec (3H,): PyTorch's weight_ih_l0, bias_ih_l0,
weight_hh_l0 (transposed), bias_hh_l0 with the gates side by side in its order. Both bias vectors are kept: the
candidate needs b_hn inside the reset gate's product.

Compiled passes: the input projection of every step in one product ([1, x_t] @ [b_in; W_in]), then per step one
product ([h, 1] @ [W_rec; b_rec]) and eleven elementwise calls; the backward pass precomputes every gate
derivative that does not depend on dL/dh for all steps at once, leaving seven calls a step.
"""

from __future__ import annotations

import numpy as np

from rnn_core import fastnp
from rnn_core.model import LOSSES, Pass, RecurrentModel, init_gated, sigmoid


class GRU(RecurrentModel):
    """GRU cell with a sigmoid read-out. init: "normal" (N(0, 1)/sqrt(fan_in) weights, zero biases) or "torch"."""

    cell = "gru"
    state_names = ("h",)
    n_gates = 3
    work = 3
    state_range = (-1.0, 1.0)
    options = ("init",)
    blocks = ("reset", "update", "candidate")
    gate_names = ("reset", "update")
    torch_layout = {  # PyTorch state_dict key -> (parameter, how): "T" transposed, "=" as is
        "weight_ih_l0": ("W_in", "T"),
        "weight_hh_l0": ("W_rec", "T"),
        "bias_ih_l0": ("b_in", "="),
        "bias_hh_l0": ("b_rec", "="),
    }

    def __init__(self, n_in, n_hidden, n_out=1, rng=None, *, init: str = "normal", dtype=np.float64):
        super().__init__(n_in, n_hidden, n_out, dtype=dtype)
        self.init = init
        init_gated(self, rng if rng is not None else np.random.default_rng(), init)

    @classmethod
    def _cell_shapes(cls, n_in: int, n_hidden: int) -> dict[str, tuple[int, ...]]:
        G = 3 * n_hidden
        return {"W_in": (n_in, G), "b_in": (G,), "W_rec": (n_hidden, G), "b_rec": (G,)}

    def _cell_views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        H, G = self.n_hidden, 3 * self.n_hidden
        rec = flat[: (H + 1) * G].reshape(H + 1, G)  # rows: W_rec (H), b_rec (1)
        inp = flat[(H + 1) * G :].reshape(1 + self.n_in, G)  # rows: b_in (1), W_in (n_in)
        return {"W_in": inp[1:], "b_in": inp[0], "W_rec": rec[:H], "b_rec": rec[H]}

    # -- the plain path ---------------------------------------------------------------------------------------
    def input_projection(self, x: np.ndarray) -> np.ndarray:
        return x @ self.params["W_in"] + self.params["b_in"]

    def recur(self, state: dict[str, np.ndarray]) -> np.ndarray:
        return state["h"] @ self.params["W_rec"] + self.params["b_rec"]

    def _gates(self, proj, rec):
        """(r, z, n) from the two parts of the pre-activations."""
        H = self.n_hidden
        r = sigmoid(proj[..., :H] + rec[..., :H])
        z = sigmoid(proj[..., H : 2 * H] + rec[..., H : 2 * H])
        n = np.tanh(proj[..., 2 * H :] + r * rec[..., 2 * H :])
        return r, z, n

    def gates(self, proj, rec) -> dict[str, np.ndarray]:
        r, z, _ = self._gates(proj, rec)
        return {"reset": r, "update": z}

    def combine(self, proj, rec, state) -> dict[str, np.ndarray]:
        r, z, n = self._gates(proj, rec)
        return {"h": (1.0 - z) * n + z * state["h"]}

    def _reference_backward(self, x, states, dh_out) -> dict[str, np.ndarray]:
        p, hs = self.params, states["h"]
        B, T, _ = x.shape
        g = {k: np.zeros_like(p[k]) for k in ("W_in", "b_in", "W_rec", "b_rec")}
        proj = self.input_projection(x)
        dh_next = np.zeros((B, self.n_hidden), dtype=self.dtype)
        for t in range(T - 1, -1, -1):
            h_prev = hs[:, t]
            rec = self.recur({"h": h_prev})
            r, z, n = self._gates(proj[:, t], rec)
            dh = dh_out[:, t] + dh_next
            da_n = dh * (1.0 - z) * (1.0 - n * n)
            da_z = dh * (h_prev - n) * z * (1.0 - z)
            da_r = da_n * rec[:, 2 * self.n_hidden :] * r * (1.0 - r)
            d_proj = np.concatenate([da_r, da_z, da_n], axis=1)
            d_rec = np.concatenate([da_r, da_z, da_n * r], axis=1)
            g["W_in"] += x[:, t].T @ d_proj
            g["b_in"] += d_proj.sum(axis=0)
            g["W_rec"] += h_prev.T @ d_rec
            g["b_rec"] += d_rec.sum(axis=0)
            dh_next = dh * z + d_rec @ p["W_rec"].T
        return g

    # -- the compiled passes ----------------------------------------------------------------------------------
    def _compile(self, T: int, B: int) -> Pass:
        H, G, n_in, dt = self.n_hidden, 3 * self.n_hidden, self.n_in, self.dtype
        S = np.zeros((T + 1, B, H + 1), dtype=dt)  # S[t] = [h_t, 1]
        S[:, :, H] = 1.0
        X1 = np.ones((T, B, 1 + n_in), dtype=dt)  # X1[t] = [1, x_t]
        XI = np.empty((T, B, G), dtype=dt)  # the input's part of the pre-activations
        GR = np.empty((T, B, G), dtype=dt)  # the state's part: [h_t, 1] @ [W_rec; b_rec]
        RZ = np.empty((T, B, 2 * H), dtype=dt)  # r, z
        N = np.empty((T, B, H), dtype=dt)  # n
        D = np.empty((B, H), dtype=dt)
        Y = np.empty((T, B, self.n_out), dtype=dt)
        # R[t] = [da_r, da_z, d(W_hn h + b_hn) of step t | the read-out's part of dL/dh_t]: one product with
        # M = [W_rec^T; I] gives dL/dh_t but for the z * h path.
        R = np.zeros((T + 1, B, G + H), dtype=dt)
        GH = np.zeros((T, B, H), dtype=dt)  # dL/dh_t, t = 1..T
        HO_2d = S[1:].reshape(T * B, H + 1)
        readout, loss_grad, out_grads = self._readout_and_loss(T, B, HO_2d, Y, R[1:, :, G:])
        n_rec = (H + 1) * G
        REC = self.theta[:n_rec].reshape(H + 1, G)
        IN = self.theta[n_rec : n_rec + (1 + n_in) * G].reshape(1 + n_in, G)
        dot, add, sub, mul, tanh = fastnp.dot, np.add, np.subtract, np.multiply, np.tanh
        half = fastnp.constant(0.5, dt)
        X1_2d, XI_2d = X1.reshape(T * B, 1 + n_in), XI.reshape(T * B, G)
        steps = tuple(
            (
                S[t],
                GR[t],
                XI[t, :, : 2 * H],
                RZ[t],
                RZ[t, :, :H],
                RZ[t, :, H:],
                GR[t, :, 2 * H :],
                XI[t, :, 2 * H :],
                N[t],
                S[t, :, :H],
                S[t + 1, :, :H],
            )
            for t in range(T)
        )

        def forward() -> None:
            dot(X1_2d, IN, XI_2d)  # [1, x_t] @ [b_in; W_in] for every step at once
            for s_t, g_t, xi_rz, rz, r, z, g_n, xi_n, n, h, h_next in steps:
                dot(s_t, REC, g_t)
                add(xi_rz, g_t[:, : 2 * H], rz)
                mul(rz, half, rz)  # sigmoid(a) = 0.5 tanh(a / 2) + 0.5
                tanh(rz, rz)
                mul(rz, half, rz)
                add(rz, half, rz)
                mul(r, g_n, n)
                add(n, xi_n, n)
                tanh(n, n)
                sub(h, n, D)  # h_next = n + z (h - n)
                mul(D, z, D)
                add(n, D, h_next)
            readout()

        backward = {
            loss: self._compile_backward(T, B, S, X1, GR, RZ, N, R, GH, loss, loss_grad, out_grads) for loss in LOSSES
        }
        return Pass(X1[:, :, 1:], Y, {"h": S[:, :, :H]}, GH, forward, backward)

    def _compile_backward(self, T, B, S, X1, GR, RZ, N, R, GH, loss, loss_grad, out_grads):
        H, G, n_in, dt = self.n_hidden, 3 * self.n_hidden, self.n_in, self.dtype
        r, z, g_n, h_prev = RZ[:, :, :H], RZ[:, :, H:], GR[:, :, 2 * H :], S[:T, :, :H]
        CN, CZ, CR = (np.empty((T, B, H), dtype=dt) for _ in range(3))  # da_n, da_z, da_r per unit of their cause
        OMZ, TMP = np.empty((T, B, H), dtype=dt), np.empty((B, H), dtype=dt)
        DXI = np.empty((T, B, G), dtype=dt)  # [da_r, da_z, da_n]: the input projection's gradient
        M = np.zeros((G + H, H), dtype=dt)
        M[G:] = np.eye(H)
        W_rec_T = self.params["W_rec"].T
        n_rec = (H + 1) * G
        g_rec = self.grad[:n_rec].reshape(H + 1, G)
        g_in = self.grad[n_rec : n_rec + (1 + n_in) * G].reshape(1 + n_in, G)
        S_in = S[:T].reshape(T * B, H + 1).T
        R_dg = R[:T].reshape(T * B, G + H)[:, :G]
        X1_T, DXI_2d = X1.reshape(T * B, 1 + n_in).T, DXI.reshape(T * B, G)
        steps = tuple(
            (
                GH[t],
                CN[t],
                CZ[t],
                CR[t],
                RZ[t, :, :H],
                DXI[t, :, 2 * H :],
                R[t, :, :H],
                R[t, :, H : 2 * H],
                R[t, :, 2 * H : G],
                R[t],
                GH[t - 1] if t else None,
                RZ[t, :, H:],
            )
            for t in range(T - 1, -1, -1)
        )
        dot, add, sub, mul, copyto = fastnp.dot, np.add, np.subtract, np.multiply, fastnp.copyto
        one = fastnp.constant(1.0, dt)

        def backward(target_tm: np.ndarray) -> float:
            value = loss_grad(target_tm, loss)  # the read-out's part of dL/dh_t, into R[1:, :, G:]
            sub(one, z, OMZ)  # CN = (1 - z)(1 - n^2)
            mul(N, N, CN)
            sub(one, CN, CN)
            mul(CN, OMZ, CN)
            sub(h_prev, N, CZ)  # CZ = (h_prev - n) z (1 - z)
            mul(CZ, z, CZ)
            mul(CZ, OMZ, CZ)
            sub(one, r, CR)  # CR = (W_hn h + b_hn) r (1 - r)
            mul(CR, r, CR)
            mul(CR, g_n, CR)
            copyto(M[:G], W_rec_T)
            copyto(GH[T - 1], R[T, :, G:])
            for gh, cn, cz, cr, r_t, da_n, da_r, da_z, dg_n, r_row, gh_prev, z_t in steps:  # t = T-1 .. 0
                mul(gh, cn, da_n)
                mul(gh, cz, da_z)
                mul(da_n, cr, da_r)
                mul(da_n, r_t, dg_n)
                if gh_prev is not None:
                    dot(r_row, M, gh_prev)  # d_rec W_rec^T + the read-out's part
                    mul(gh, z_t, TMP)
                    add(gh_prev, TMP, gh_prev)
            dot(S_in, R_dg, g_rec)
            copyto(DXI[:, :, : 2 * H], R[:T, :, : 2 * H])
            dot(X1_T, DXI_2d, g_in)
            out_grads()
            return value

        return backward
