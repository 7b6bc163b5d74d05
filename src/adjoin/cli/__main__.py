"""``python -m adjoin.cli COMMAND ...``: the same as the ``adjoin`` command."""
import sys

from . import main

sys.exit(main())
