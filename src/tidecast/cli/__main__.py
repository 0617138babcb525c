"""`python -m tidecast.cli ...`: the same as the `tidecast` command."""

from tidecast.cli.main import run

if __name__ == "__main__":  # pragma: no cover
    run()
