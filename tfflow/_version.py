"""The tfflow version (a leaf module: importing it imports nothing else of tfflow)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
