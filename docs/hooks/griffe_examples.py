"""Griffe extension: reads tfflow's Google-style `Example:` sections as `Examples:`.

tfflow's docstrings (STYLE.md) head their doctests `Example:`; griffe's Google parser only
knows the plural and would render the singular as an admonition with `>>>` read as nested
quotes. Renaming the heading before parsing makes every doctest a highlighted code example.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

_EXAMPLE_HEADING = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class ExamplesHeading(Extension):
    """Turns `Example:` section headings into `Examples:`."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE_HEADING.sub(r"\1Examples:", obj.docstring.value)
