"""MkDocs hook: renders the pages' LaTeX as MathML when the site is built.

`pymdownx.arithmatex` (generic mode) leaves `\\(...\\)` in `<span class="arithmatex">` and
`\\[...\\]` in `<div class="arithmatex">`. This hook converts each to MathML with
`latex2mathml`, which browsers render natively: the site needs no JavaScript maths library
and no network, and a formula that does not convert fails the build.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert
from mkdocs.exceptions import PluginError

_MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*(?P<open>\\\(|\\\[)'
    r"(?P<tex>.*?)(?:\\\)|\\\])\s*</(?P=tag)>",
    re.DOTALL,
)


def on_page_content(content: str, page, **kwargs) -> str:
    def render(match: re.Match) -> str:
        tex = html.unescape(match["tex"]).strip()
        display = "block" if match["open"] == "\\[" else "inline"
        try:
            mathml = convert(tex, display=display)
        except Exception as err:  # latex2mathml raises plain exceptions on bad input
            raise PluginError(f"{page.file.src_path}: cannot render ${tex}$: {err}") from err
        return f'<{match["tag"]} class="arithmatex">{mathml}</{match["tag"]}>'

    return _MATH.sub(render, content)
