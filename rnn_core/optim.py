"""Optimizers that update the model's flat parameter vector in place.

One contract, as in CS231n's optim.py: ``update(theta, grad, lr)`` with theta and grad flat float arrays of the same
shape. The learning rate is an argument of every call, not state, so it can change between steps without resetting
anything. Gradient-norm clipping (``clip > 0``) rescales the whole gradient to norm ``clip`` when it is longer.
"""

from __future__ import annotations

import math

import numpy as np

from rnn_core import fastnp

OPTIMIZERS = ("sgd", "momentum", "adam")


class Optimizer:
    name = "base"

    def __init__(self, size: int, dtype=np.float64, clip: float = 0.0):
        if not (clip >= 0.0 and np.isfinite(clip)):
            raise ValueError(f"clip must be a finite number >= 0 (0 = off), got {clip!r}")
        self.clip = float(clip)
        self._step_buf = np.zeros(size, dtype=dtype)

    def _clip(self, grad: np.ndarray) -> np.ndarray:
        if self.clip > 0.0:
            norm = float(np.sqrt(np.dot(grad, grad)))
            if norm > self.clip:
                grad *= self.clip / norm
        return grad

    def update(self, theta: np.ndarray, grad: np.ndarray, lr: float) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, np.ndarray]:
        """Arrays that make up the optimizer's state (for checkpoints)."""
        return {}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        for k, v in self.state().items():
            v[...] = state[k]

    def reset(self) -> None:
        for v in self.state().values():
            v[...] = 0


class SGD(Optimizer):
    """theta <- theta - lr * grad (the post)."""

    name = "sgd"

    def __init__(self, size, dtype=np.float64, clip=0.0):
        super().__init__(size, dtype, clip)
        self._lr, self._lr_dtype, self._lr_operand = None, None, None

    def update(self, theta, grad, lr):
        if lr is not self._lr or grad.dtype is not self._lr_dtype:  # the same float all through a chunk: converted once
            self._lr, self._lr_dtype = lr, grad.dtype
            self._lr_operand = fastnp.constant(lr, grad.dtype) if type(lr) is float else lr
        np.multiply(self._clip(grad) if self.clip else grad, self._lr_operand, self._step_buf)
        np.subtract(theta, self._step_buf, theta)


class Momentum(Optimizer):
    """Heavy-ball momentum: v <- mu v - lr grad; theta <- theta + v."""

    name = "momentum"

    def __init__(self, size, dtype=np.float64, clip=0.0, mu: float = 0.9):
        super().__init__(size, dtype, clip)
        self.mu = float(mu)
        self.velocity = np.zeros(size, dtype=dtype)

    def update(self, theta, grad, lr):
        v = self.velocity
        v *= self.mu
        v -= np.multiply(self._clip(grad), lr, out=self._step_buf)
        theta += v

    def state(self):
        return {"velocity": self.velocity}


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction."""

    name = "adam"

    def __init__(self, size, dtype=np.float64, clip=0.0, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(size, dtype, clip)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.m = np.zeros(size, dtype=dtype)
        self.v = np.zeros(size, dtype=dtype)
        self.t = np.zeros(1, dtype=np.float64)  # step count, an array so it is saved with the state
        self._tmp = np.zeros(size, dtype=dtype)

    def update(self, theta, grad, lr):
        g = self._clip(grad) if self.clip else grad
        b1, b2 = self.beta1, self.beta2
        t = float(self.t[0]) + 1.0
        self.t[0] = t
        m, v, tmp = self.m, self.v, self._tmp
        m *= b1
        m += np.multiply(g, 1.0 - b1, out=tmp)
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        lr_t = np.float64(lr * math.sqrt(1.0 - b2**t) / (1.0 - b1**t))  # float64: float32 runs scale in double
        np.sqrt(v, out=tmp)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= lr_t
        theta -= tmp

    def state(self):
        return {"m": self.m, "v": self.v, "t": self.t}


def make_optimizer(name: str, size: int, dtype=np.float64, clip: float = 0.0, momentum: float = 0.9) -> Optimizer:
    if name == "sgd":
        return SGD(size, dtype, clip)
    if name == "momentum":
        return Momentum(size, dtype, clip, mu=momentum)
    if name == "adam":
        return Adam(size, dtype, clip)
    raise ValueError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")
