"""Every cell against PyTorch's nn.RNN/GRU/LSTM + nn.Linear + sigmoid: outputs, losses and gradients, through
rnn_core.interop's state_dict layout (skipped where torch is not installed; it is never a requirement)."""

import numpy as np
import pytest

from rnn_core import CELLS, make_model
from rnn_core.interop import from_torch, to_torch

torch = pytest.importorskip("torch", reason="PyTorch is optional: the comparison with it needs `pip install torch`")

TORCH_CELLS = {"elman": "RNN", "gru": "GRU", "lstm": "LSTM"}


class TorchNet(torch.nn.Module):
    """PyTorch's same network: one recurrent layer, a linear read-out named ``out`` and a sigmoid."""

    def __init__(self, cell: str, n_in: int, H: int, n_out: int):
        super().__init__()
        kind = getattr(torch.nn, TORCH_CELLS[cell])
        self.rnn = kind(n_in, H, batch_first=True).double()
        self.out = torch.nn.Linear(H, n_out).double()

    def forward(self, x):
        h, _ = self.rnn(x)
        return torch.sigmoid(self.out(h)), h


def torch_net(cell: str, model) -> TorchNet:
    net = TorchNet(cell, model.n_in, model.n_hidden, model.n_out)
    sd = {("rnn." + k if not k.startswith("out.") else k): torch.from_numpy(v) for k, v in to_torch(model).items()}
    net.load_state_dict(sd)
    return net


def random_model(cell: str, seed: int, n_in=2, H=5, n_out=1):
    rng = np.random.default_rng(seed)
    model = make_model(cell, n_in, H, n_out, rng)
    for name in model.params:  # non-zero biases, so every slot matters
        model.params[name] = rng.normal(0, 0.7, model.params[name].shape)
    return model, rng


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_outputs_loss_and_gradients_equal_pytorchs(cell, loss):
    model, rng = random_model(cell, 3)
    x = rng.integers(0, 2, (4, 8, 2)).astype(float)
    t = rng.integers(0, 2, (4, 8, 1)).astype(float)
    value, grads = model.loss_and_grads(x, t, loss)
    y, states = model.forward(x)
    net = torch_net(cell, model)
    y_t, h_t = net(torch.from_numpy(x))
    tt = torch.from_numpy(t)
    if loss == "mse":
        loss_t = 0.5 * ((y_t - tt) ** 2).sum()
    else:
        loss_t = torch.nn.functional.binary_cross_entropy(y_t, tt, reduction="sum")
    loss_t.backward()
    np.testing.assert_allclose(y, y_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(states["h"][:, 1:], h_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert value == pytest.approx(loss_t.item(), rel=1e-10)
    ours = to_torch(model, grads)
    theirs = {k.removeprefix("rnn."): p.grad.numpy() for k, p in net.named_parameters()}
    assert set(ours) == set(theirs)
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-9, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("cell", CELLS)
def test_from_torch_reads_a_pytorch_modules_weights(cell):
    torch.manual_seed(0)
    net = TorchNet(cell, 3, 6, 2)
    sd = {k.removeprefix("rnn."): v.detach().numpy() for k, v in net.state_dict().items()}
    model = from_torch(cell, sd)
    x = np.random.default_rng(1).integers(0, 2, (3, 7, 3)).astype(float)
    y, _ = model.forward(x)
    np.testing.assert_allclose(y, net(torch.from_numpy(x))[0].detach().numpy(), rtol=1e-12, atol=1e-14)
    back = to_torch(from_torch(cell, to_torch(model)))  # our own round trip keeps every number
    for key, value in to_torch(model).items():
        np.testing.assert_array_equal(back[key], value)
