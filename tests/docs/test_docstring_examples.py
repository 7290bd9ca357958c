"""Every `>>>` example in tfflow's docstrings runs and prints what the docstring says.

The API reference shows these examples; this keeps them true (the same check as
`pytest --doctest-modules tfflow`, inside the suite that CI runs).
"""

import doctest
import importlib
import io
import pkgutil

import pytest

import tfflow


def _runs_something(test: doctest.DocTest) -> bool:
    return any(not example.options.get(doctest.SKIP) for example in test.examples)


def _modules_with_examples() -> list[str]:
    """Modules with at least one example that is not marked `# doctest: +SKIP`."""
    names = [info.name for info in pkgutil.walk_packages(tfflow.__path__, "tfflow.")]
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [
        name
        for name in sorted(["tfflow", *names])
        if any(_runs_something(t) for t in finder.find(importlib.import_module(name), name))
    ]


@pytest.mark.parametrize("module_name", _modules_with_examples())
def test_docstring_examples_run(module_name):
    module = importlib.import_module(module_name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = io.StringIO()
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, module_name):
        runner.run(test, out=report.write)
    assert runner.failures == 0, report.getvalue()
    assert runner.tries > 0
