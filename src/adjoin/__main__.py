"""``python -m adjoin COMMAND ...``: the same as the ``adjoin`` command."""
import sys

from .cli import main

sys.exit(main())
