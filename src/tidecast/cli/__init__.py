"""The `tidecast` command (Typer + Rich): one module per command group, wired in `main`.

`main` (the app, `--verbose`, the console entry point `run`), `demo` (demo-data), `train`
(train, backtest, forecast), `batch`, `serve`, `keys`, `models` and `jobs`; `common` and
`options` hold what several commands share. Each command parses its options and calls one
library function; nothing below `tidecast.cli` imports it.
"""
