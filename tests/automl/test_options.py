"""The AutoML options are declared once (`automl.options.OPTIONS`) and every door agrees with it:
`AutoForecaster`'s signature, `tidecast train`/`backtest` and the training job's body. An option
added to one door alone fails here; a bad value is refused with the same words by each."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import typer
from pydantic import BaseModel
from typer.testing import CliRunner

from tidecast.automl.forecaster import AutoForecaster
from tidecast.automl.options import BODY_OPTIONS, BY_NAME, CLI_OPTIONS, check_options
from tidecast.cli.main import app
from tidecast.cli.options import automl_command, forecaster_keywords
from tidecast.errors import ConfigError
from tidecast.jobs.config import parse_job_body
from tidecast.jobs.request import JobConfigError, JobRequest

runner = CliRunner()
# What each door has that is not an AutoML option: the command's own inputs and outputs, the
# job's own bookkeeping.
CLI_OWN = {"data", "sql", "sql_url", "out_dir", "future", "workers", "scheduler", "help"}
BODY_OWN = {
    "name",
    "data",
    "sql",
    "future",
    "future_sql",
    "output",
    "model_group",
    "covariates",
    "columns",
    "hierarchy",
}
# Nested fields that are the job's own, not AutoML options: which undeclared columns join the
# covariates (`jobs.features`).
BODY_OWN_NESTED = {("covariates", "features")}


def _params(command: str) -> dict[str, Any]:
    """The command's parameters as the command line library sees them, by name."""
    group: Any = typer.main.get_command(app)
    return {param.name: param for param in group.commands[command].params}


def _body_fields(model: type[BaseModel] = JobRequest, prefix: tuple[str, ...] = ()) -> dict[tuple, Any]:
    """Every leaf field of the job body by its path, nested models walked."""
    fields: dict[tuple, Any] = {}
    for name, info in model.model_fields.items():
        nested = info.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            fields |= _body_fields(nested, (*prefix, name))
        else:
            fields[(*prefix, name)] = info
    return fields


def _body_default(option: Any) -> Any:
    """The option's default as JSON writes it: a tuple is a list, a list option left out is []."""
    if isinstance(option.default, tuple):
        return list(option.default)
    return [] if option.body.get("default_factory") is list else option.default


def test_every_option_is_a_keyword_of_autoforecaster_with_the_same_default():
    parameters = dict(inspect.signature(AutoForecaster.__init__).parameters)
    parameters.pop("self")
    assert set(parameters) == set(BY_NAME)
    for name, parameter in parameters.items():
        option = BY_NAME[name]
        expected = inspect.Parameter.empty if option.required else option.default
        assert parameter.default == expected, name


@pytest.mark.parametrize("command", ["train", "backtest"])
def test_every_cli_option_has_its_flag_help_and_default_and_nothing_else_is_automl(command):
    params = _params(command)
    assert set(params) - CLI_OWN == {o.name for o in CLI_OPTIONS}
    for option in CLI_OPTIONS:
        param = params[option.name]
        assert param.opts == [option.flag], option.name
        assert param.required == option.required, option.name
        if not option.required:
            assert param.default == option.cli_default(), option.name
        assert param.help == option.help, option.name
    text = runner.invoke(app, [command, "--help"], env={"COLUMNS": "250"}).output
    for option in CLI_OPTIONS:
        assert option.flag in text and option.help in text, option.name
    assert "[default: 0.1,0.5,0.9]" in text and "[default: wql]" in text and "[default: medium]" in text


def test_every_body_option_has_its_field_and_default_and_nothing_else_is_automl():
    fields = _body_fields()
    own = {(name,) for name in BODY_OWN} | BODY_OWN_NESTED
    assert set(fields) - own == {o.body_path for o in BODY_OPTIONS}
    for option in BODY_OPTIONS:
        info = fields[option.body_path]
        assert info.is_required() == option.required, option.name
        if not option.required:
            assert info.get_default(call_default_factory=True) == _body_default(option), option.name
    schema = JobRequest.model_json_schema()
    assert schema["required"] == ["horizon"]  # and exactly one of data and sql, checked by a validator
    assert {"data", "sql"} <= set(schema["properties"])
    assert schema["properties"]["horizon"] == {
        "maximum": 50_000,
        "minimum": 1,
        "title": "Horizon",
        "type": "integer",
    }
    assert schema["properties"]["metric"]["enum"] == ["wql", "wape", "mape", "smape", "mase", "rmse"]
    assert schema["properties"]["preset"]["enum"] == ["fast", "medium", "best"]


def test_a_body_left_at_its_defaults_gives_autoforecaster_its_own_defaults():
    keywords = JobRequest(data="x.csv", horizon=7).forecaster_options()
    assert keywords == {o.name: 7 if o.name == "horizon" else o.default for o in BODY_OPTIONS}
    assert keywords["quantiles"] == (0.1, 0.5, 0.9) and keywords["known_covariates"] is None


def test_a_body_maps_each_field_onto_its_keyword():
    body = {
        "data": "x.csv",
        "horizon": 3,
        "quantiles": [0.9, 0.1],
        "covariates": {"known": ["promo"], "item_metadata": "items.csv"},
        "columns": {"item": "sku", "target": "sales"},
        "holidays": ["us"],
        "models": ["naive", "Naive"],
    }
    keywords = JobRequest.model_validate(body).forecaster_options()
    assert keywords["quantiles"] == (0.1, 0.9)
    assert keywords["known_covariates"] == ["promo"] and keywords["past_covariates"] is None
    assert keywords["static_data"] == "items.csv"
    assert (keywords["item_col"], keywords["timestamp_col"], keywords["target_col"]) == (
        "sku",
        "timestamp",
        "sales",
    )
    assert keywords["holidays"] == ["US"] and keywords["models"] == ["Naive"]


def test_the_cli_reads_text_into_the_keywords():
    typed = {o.name: o.cli_default() for o in CLI_OPTIONS} | {"horizon": 5}
    typed |= {"metric": "MASE", "models": " naive, ETS ,", "filling": '{"target": "zero"}'}
    keywords = forecaster_keywords(typed)
    assert keywords["metric"] == "mase" and keywords["models"] == ["naive", "ETS"]
    assert keywords["filling"] == {"target": "zero"} and keywords["quantiles"] == "0.1,0.5,0.9"
    assert forecaster_keywords({"models": "", "aggregation": None}) == {"models": None, "aggregation": None}
    with pytest.raises(ConfigError, match=r"^--aggregation must be a JSON object keyed by column name$"):
        forecaster_keywords({"aggregation": "[1]"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "frequency",
            "fortnightly",
            "unknown frequency 'fortnightly': use a pandas offset alias such as D, h, W, MS",
        ),
        ("date_format", "dd/mm/yyyy", "a date format is strftime codes such as %d/%m/%Y, got 'dd/mm/yyyy'"),
        ("holidays", ["U.S."], "holiday country codes look like US or GB, got ['U.S.']"),
        ("filling", {"target": {"sidefill": "zero"}}, "unknown filling key 'sidefill' for 'target'"),
        (
            "filling",
            {"open": {"futurefill": "value", "value": 1}},
            "unknown filling key 'value' for 'open': use frontfill, middlefill, backfill, futurefill, and "
            "<region>_value beside a 'value' method (e.g. futurefill_value)",
        ),
        ("models", ["Naive", "NoSuchModel"], "unknown model(s) ['NoSuchModel']"),
    ],
)
def test_a_bad_value_is_refused_with_the_same_words_by_the_library_and_the_job_body(name, value, message):
    with pytest.raises(ConfigError) as library:
        AutoForecaster(horizon=3, **{name: value})._check_config()
    body: dict[str, Any] = {"data": "x.csv", "horizon": 3, name: value}
    with pytest.raises(JobConfigError) as job:
        parse_job_body(body)
    assert str(library.value).startswith(message)
    assert job.value.errors[0]["loc"][0] == name and message in job.value.errors[0]["msg"]


def test_a_bad_value_on_the_command_line_is_refused_by_the_same_check(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("item_id,timestamp,target\na,2024-01-01,1\n")
    result = runner.invoke(app, ["train", str(data), "--horizon", "2", "--freq", "fortnightly"])
    assert result.exit_code == 2
    assert "unknown frequency 'fortnightly'" in result.output


def test_check_options_returns_the_normalised_values():
    checked = check_options({"quantiles": "0.9, 0.1,0.1", "holidays": "gb, us", "models": ["naive"]})
    assert checked == {"quantiles": [0.1, 0.9], "holidays": ["GB", "US"], "models": ["Naive"]}


def test_a_command_must_place_each_of_its_own_parameters():
    def command(data: str = "", stray: int = 0, *, options: dict[str, Any]) -> None: ...

    with pytest.raises(TypeError, match=r"command: place \['stray'\] after an AutoML option"):
        automl_command({"horizon": ("data",)})(command)


def test_when_models_is_one_string_then_it_is_read_as_a_comma_list():
    # Before, models="Naive" was iterated by character: "unknown model(s) ['N', 'a', 'i', 'v', 'e']".
    assert check_options({"models": "Naive"})["models"] == ["Naive"]
    assert check_options({"models": "mstlets, AutoETS"})["models"] == ["MSTLETS", "AutoETS"]
    with pytest.raises(ConfigError, match=r"unknown model\(s\) \['Foo'\]"):
        check_options({"models": "Naive,Foo"})
