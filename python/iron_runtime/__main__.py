"""``python -m iron_runtime``: same as the ``iron-runtime`` command."""
import sys

from .cli import main

sys.exit(main())
