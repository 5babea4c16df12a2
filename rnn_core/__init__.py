"""rnn_core: pure-numpy recurrent networks (Elman, GRU, LSTM) that learn binary arithmetic, least-significant bit
first."""

from rnn_core.threads import limit_blas_threads

limit_blas_threads()  # tiny matrices: one BLAS thread is 30x faster on a busy machine (see threads.py)


from rnn_core.cells import CELLS, make_model
from rnn_core.cells.elman import ElmanRNN
from rnn_core.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint, save_checkpoint
from rnn_core.model import RecurrentModel
from rnn_core.presets import PRESETS, Preset
from rnn_core.tasks import Task
from rnn_core.train import TrainConfig, Trainer, TrainingDiverged

__all__ = [
    "CELLS",
    "PRESETS",
    "CheckpointError",
    "ElmanRNN",
    "Preset",
    "RecurrentModel",
    "Task",
    "TrainConfig",
    "Trainer",
    "TrainingDiverged",
    "checkpoint_bytes",
    "load_checkpoint",
    "make_model",
    "save_checkpoint",
]
