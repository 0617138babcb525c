"""Packaging metadata in the form current setuptools reads without deprecation warnings."""

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_license_is_an_spdx_expression_not_the_deprecated_table():
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    assert project["license"] == "Apache-2.0"


def test_duckdb_is_declared_since_sql_sources_read_through_it():
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    assert any(dep.startswith("duckdb") for dep in project["dependencies"])
