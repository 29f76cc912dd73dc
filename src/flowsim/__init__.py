"""flowsim: why a small software business must slow down to speed up."""

__version__ = "0.1.0"
