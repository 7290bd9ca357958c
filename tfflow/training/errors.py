"""`RunConfigurationError`: a problem with a run's settings that its user can fix."""

__all__ = ["RunConfigurationError"]


class RunConfigurationError(ValueError):
    """Settings, data or run directory that cannot work together, found before training.

    The message is one line saying what is wrong and how to fix it (the command line prints
    it as `tfflow: error: <message>`). Examples: an option that does not apply to the model,
    an image size the architecture cannot squeeze, a run directory that holds another run or
    cannot be written.
    """
