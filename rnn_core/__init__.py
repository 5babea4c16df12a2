"""rnn_core: a pure-numpy Elman RNN that learns binary arithmetic, least-significant bit first."""

from rnn_core.threads import limit_blas_threads

limit_blas_threads()  # tiny matrices: one BLAS thread is 30x faster on a busy machine (see threads.py)


from rnn_core.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint, save_checkpoint
from rnn_core.model import ElmanRNN
from rnn_core.presets import PRESETS, Preset
from rnn_core.tasks import Task
from rnn_core.train import TrainConfig, Trainer, TrainingDiverged

__all__ = [
    "PRESETS",
    "CheckpointError",
    "ElmanRNN",
    "Preset",
    "Task",
    "TrainConfig",
    "Trainer",
    "TrainingDiverged",
    "checkpoint_bytes",
    "load_checkpoint",
    "save_checkpoint",
]
