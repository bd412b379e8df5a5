"""The version of sparsetsc: the one place it is written (``pyproject.toml`` reads it).

A bottom module: every layer may import it without importing the package root.
"""

__version__ = "0.1.0"
