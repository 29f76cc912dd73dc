"""flowsim's version, in a module of its own.

Anything in the package may import it without importing the package's API (and so
without the import circle the root once made), and ``flowsim --version`` needs
nothing else. Keep it equal to ``version`` in pyproject.toml (a test checks).
"""

__version__ = "0.1.0"
