"""rnn_core: a pure-numpy Elman RNN that learns binary arithmetic, least-significant bit first."""
from rnn_core.model import ElmanRNN
