"""The documentation site: built strictly with its tutorials executed, then read as a reader
would: every page present, every public name in the API reference, internal links and images
resolving, maths rendered as MathML, and (where Chromium is installed) a screenshot of every
page.

One test, so that pytest-xdist never builds the site twice: the build runs the tutorials,
which is most of this test's time.
"""

from __future__ import annotations

import base64
import html.parser
import importlib
import os
import pathlib
import posixpath
import re
import shutil
import subprocess
import sys
import types
import urllib.parse

import numpy as np
import tensorflow as tf

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Screenshots are test artefacts: written here (gitignored), overwritten by each run.
SCREENSHOT_DIR = pathlib.Path(os.environ.get("TFFLOW_DOCS_SCREENSHOTS", ROOT / "docs-screenshots"))
TUTORIALS = [
    "tutorials/01-change-of-variables.html",
    "tutorials/02-coupling-layers.html",
    "tutorials/03-realnvp.html",
    "tutorials/04-glow.html",
    "tutorials/05-training-mnist.html",
    "tutorials/06-tfp-and-serving.html",
    "tutorials/07-conditional-and-spline-flows.html",
]
# Each API page documents the `__all__` of one module.
API_PAGES = {
    "tfflow": "api/tfflow.html",
    "tfflow.models": "api/models.html",
    "tfflow.bijectors": "api/bijectors.html",
    "tfflow.layers": "api/layers.html",
    "tfflow.latent": "api/latent.html",
    "tfflow.data": "api/data.html",
    "tfflow.training": "api/training.html",
    "tfflow.callbacks": "api/callbacks.html",
    "tfflow.optimizers": "api/optimizers.html",
    "tfflow.serving": "api/serving.html",
    "tfflow.cli": "api/cli.html",
}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


class _PageParser(html.parser.HTMLParser):
    """Collects ids, link targets and image sources of one HTML page."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "img" and attrs.get("src") is not None:
            self.images.append(attrs["src"])


def _build_site(site: pathlib.Path) -> None:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        MPLBACKEND="Agg",
        TF_CPP_MIN_LOG_LEVEL="2",
        NO_MKDOCS_2_WARNING="1",
    )
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-8000:]}"


def _parse(site: pathlib.Path) -> dict[str, _PageParser]:
    pages = {}
    for path in sorted(site.rglob("*.html")):
        parser = _PageParser()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[path.relative_to(site).as_posix()] = parser
    return pages


def _check_every_public_name_is_documented(pages: dict[str, _PageParser]) -> None:
    ids = {page: pages[page].ids for page in API_PAGES.values()}
    modules = {name: importlib.import_module(name) for name in API_PAGES}
    modules = {name: sys.modules[name] for name in modules}
    missing = []
    for module_name, module in modules.items():
        for name in module.__all__:
            value = getattr(module, name)
            if name.startswith("__") or isinstance(value, types.ModuleType):
                continue  # `__version__`; subpackages have their own pages
            # Documented where it is exported, or on the page of another module exporting it.
            homes = [
                f"{other}.{name}" in ids[API_PAGES[other]]
                for other, other_module in modules.items()
                if getattr(other_module, name, None) is value
            ]
            qualified = f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '')}"
            if not any(homes) and not any(qualified in page_ids for page_ids in ids.values()):
                missing.append(f"{module_name}.{name}")
    assert not missing, f"public names missing from the API reference: {missing}"


def _check_links_and_images(site: pathlib.Path, pages: dict[str, _PageParser]) -> None:
    broken = []
    for page, parser in pages.items():
        for href in parser.links:
            url = urllib.parse.urlsplit(href)
            if url.scheme or href.startswith("//") or href.startswith("mailto:"):
                continue  # external: not checked (the site is built offline)
            target = page
            if url.path:
                # 404.html links from the site root; other pages link relatively.
                base = "" if url.path.startswith("/") else posixpath.dirname(page)
                target = posixpath.normpath(posixpath.join(base, url.path.lstrip("/")))
                if (site / target).is_dir():
                    target = posixpath.join(target, "index.html")
                if not (site / target).exists():
                    broken.append(f"{page}: link {href}")
                    continue
            fragment = urllib.parse.unquote(url.fragment)
            if fragment and target.endswith(".html") and fragment not in pages[target].ids:
                broken.append(f"{page}: anchor {href}")
        for src in parser.images:
            if src.startswith("data:image/png;base64,"):
                picture = tf.io.decode_png(base64.b64decode(src.split(",", 1)[1]))
                if picture.shape[0] < 50 or picture.shape[1] < 50:
                    broken.append(f"{page}: a tiny embedded image {tuple(picture.shape)}")
            elif src.startswith("data:"):
                continue
            else:
                path = posixpath.normpath(posixpath.join(posixpath.dirname(page), src))
                if urllib.parse.urlsplit(src).scheme or not (site / path).is_file():
                    broken.append(f"{page}: image {src}")
    assert not broken, "broken internal links or images:\n" + "\n".join(broken)


def _check_tutorials(site: pathlib.Path, pages: dict[str, _PageParser]) -> None:
    for page in TUTORIALS:
        assert page in pages, f"tutorial {page} was not built"
        text = (site / page).read_text(encoding="utf-8")
        figures = [s for s in pages[page].images if s.startswith("data:image/png;base64,")]
        assert figures, f"{page} has no figure drawn by its code"
        assert "Traceback" not in text, f"{page} shows a traceback"
        # The code blocks ran: their output follows them on the page.
        assert text.count('class="highlight"') >= 2, page


def _check_maths(site: pathlib.Path, pages: dict[str, _PageParser]) -> None:
    for page in pages:
        text = (site / page).read_text(encoding="utf-8")
        if 'class="arithmatex"' not in text:
            continue
        assert "<math" in text, f"{page}: maths not converted to MathML"
        leftovers = re.findall(r'class="arithmatex">\s*\\[(\[]', text)
        assert not leftovers, f"{page}: unrendered LaTeX left in the page"
    for page in TUTORIALS[:4]:
        assert "<math" in (site / page).read_text(encoding="utf-8"), f"{page} has no maths"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _screenshot_every_page(site: pathlib.Path, pages: dict[str, _PageParser], tmp) -> None:
    browser = _chromium()
    if browser is None:
        print("Chromium not installed (apt-get install chromium): no screenshots taken")
        return
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for page in pages:
        if page in ("404.html",):
            continue
        out = SCREENSHOT_DIR / (page.removesuffix(".html").replace("/", "__") + ".png")
        out.unlink(missing_ok=True)
        subprocess.run(
            [
                browser,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmp / 'chromium-profile'}",
                "--window-size=1280,2400",
                f"--screenshot={out}",
                (site / page).as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert out.is_file(), f"Chromium wrote no screenshot of {page}"
        picture = tf.io.decode_png(out.read_bytes()).numpy()
        # A rendered page, not a blank one: many distinct grey levels.
        assert len(np.unique(picture[..., 0])) > 20, f"blank screenshot of {page}"


def test_docs_site_builds_strictly_and_reads_well(tmp_path):
    site = tmp_path / "site"
    _build_site(site)
    pages = _parse(site)
    expected = ["index.html", "guides/cli.html", "tutorials/index.html", "api/index.html"]
    for page in [*expected, *TUTORIALS, *API_PAGES.values()]:
        assert page in pages, f"{page} missing from the built site"
    _check_every_public_name_is_documented(pages)
    _check_links_and_images(site, pages)
    _check_tutorials(site, pages)
    _check_maths(site, pages)
    _screenshot_every_page(site, pages, tmp_path)
