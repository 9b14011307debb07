"""iron_cage: the original project's import name; the same public names as iron_runtime."""
from iron_runtime import *  # noqa: F401,F403  (the very same objects)
from iron_runtime import __all__, __version__  # noqa: F401
