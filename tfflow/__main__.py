"""`python -m tfflow`: the `tfflow` command line."""

from tfflow.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
