"""Entry point: ``python -m rnn_core train|eval`` (see cli.py)."""

import sys

from rnn_core.cli import main

sys.exit(main())
