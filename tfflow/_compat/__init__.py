"""The one place where tfflow touches private TensorFlow, Keras or TFP names.

Each module wraps one library's private names; `tests/compat/` pins every entry, so a release
that moves one fails there with a message naming it, never silently elsewhere.
"""

__all__: list[str] = []
