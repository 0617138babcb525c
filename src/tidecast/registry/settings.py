"""Service configuration, read from `TIDECAST_*` environment variables (or a `.env` file).

Everything has a default that works on one machine with no setup: the database is SQLite and
the artifacts live in folders under `home`. Pointing `TIDECAST_DATABASE_URL` at PostgreSQL and
`TIDECAST_ARTIFACT_URL` at an object store (any fsspec URL, e.g. s3://bucket/tidecast) is all a
multi-process or multi-host deployment changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tidecast.data.locations import LocationPolicy, url_prefix

MIB = 1024 * 1024


class ServiceSettings(BaseSettings):
    """The `tidecast serve` settings; each field is `TIDECAST_<FIELD NAME>` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="TIDECAST_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Field(
        default=Path(".tidecast"), description="Folder for the default database and artifacts."
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; default sqlite:///{home}/tidecast.db. PostgreSQL: postgresql+psycopg://...",
    )
    artifact_url: str = Field(
        default="", description="fsspec URL where model folders live; default {home}/artifacts."
    )
    data_root: Path | None = Field(
        default=None,
        description=(
            "Local folder that job and batch locations are confined to: s3://bucket/key -> "
            "{data_root}/bucket/key. Batch jobs write their output below it or below {home}/batch. "
            "Unset, jobs and batches read no local file (only object-store URLs)."
        ),
    )
    data_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Remote URL prefixes (s3://bucket/in/, https://host/exports/) that job and batch "
            "locations may name as they are: a JSON list or comma-separated. http(s) is refused "
            "unless listed here. With neither this nor data_root, object-store URLs are read as "
            "given, and local paths not at all."
        ),
    )
    open_mode: bool = Field(default=False, description="Serve without API keys. Must be set explicitly.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed by CORS: a JSON list or comma-separated."
    )
    max_body_bytes: int = Field(
        default=10 * MIB, gt=0, description="Largest request body accepted, in bytes."
    )
    workers: int = Field(default=1, ge=1, description="Job worker processes.")
    dask_scheduler: str | None = Field(
        default=None,
        description="Dask scheduler (tcp://host:8786) that training and batch jobs fan out to; none: local processes.",
    )
    default_endpoint: str | None = Field(
        default=None, description="What POST /invocations serves when no target model header names one."
    )
    host: str = Field(default="127.0.0.1", description="Address to bind; loopback unless told otherwise.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port to bind (8080 is SageMaker's).")
    forecast_log: bool = Field(
        default=True, description="Keep every forecast the endpoints serve, for accuracy monitoring."
    )
    forecast_log_sample: float = Field(
        default=1.0,
        gt=0.0,
        le=1.0,
        description="Share of items whose forecasts are logged (the same items every time), for hot endpoints.",
    )
    forecast_log_max_pending: int = Field(
        default=100_000,
        ge=1,
        description="Item forecasts waiting to be written at most; past it new ones are dropped and counted.",
    )
    forecast_log_flush_seconds: float = Field(
        default=1.0, gt=0.0, description="How often the forecast log writes what is waiting."
    )
    alert_rules: Path | None = Field(
        default=None,
        description="TOML file of alert rules, webhooks and SMTP settings; more rules can be added through the API.",
    )
    alert_interval_seconds: float = Field(
        default=60.0,
        ge=0.0,
        description="How often the service evaluates the alert rules; 0: never on its own.",
    )
    aws_region: str = Field(
        default="us-east-1",
        pattern=r"^[a-z0-9-]{1,32}$",
        description="The AWS region the SageMaker-compatible API answers for: SigV4 credential scopes "
        "must name it, and ARNs carry it. Set it to the region in the clients' `aws configure`.",
    )
    aws_account_id: str = Field(
        default="000000000000",
        pattern=r"^[0-9]{12}$",
        description="The twelve-digit account id in the ARNs the SageMaker-compatible API returns.",
    )
    log_level: str = Field(
        default="INFO",
        description="Level of the service's and the job workers' logs: DEBUG, INFO, WARNING...",
    )

    @field_validator("cors_origins", "data_urls", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        """Accept `["https://a", "https://b"]` (JSON) as well as `https://a,https://b`."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("data_root", mode="before")
    @classmethod
    def _empty_root_is_none(cls, value: Any) -> Any:
        """TIDECAST_DATA_ROOT= (empty) means no data root, not the working folder."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("data_urls")
    @classmethod
    def _url_prefixes(cls, value: list[str]) -> list[str]:
        """A bad prefix stops the service at start, not at the first request naming it."""
        return [url_prefix(url) for url in value]

    @model_validator(mode="after")
    def _derive_from_home(self) -> ServiceSettings:
        """Fill the URLs left empty from `home`, so moving `home` moves everything."""
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'tidecast.db'}"
        if not self.artifact_url:
            self.artifact_url = str(self.home / "artifacts")
        return self

    def missing_database(self) -> Path | None:
        """The SQLite file the database URL names, when it does not exist yet; else None.

        A read (`tidecast models list` in the wrong folder) checks this first, so it says where
        it looked instead of creating an empty home there."""
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        path = Path(str(url.database))
        return None if path.exists() else path

    @property
    def cache_dir(self) -> Path:
        """Where model folders from remote artifact stores are cached locally."""
        return self.home / "cache"

    def location_policy(self) -> LocationPolicy:
        """Where job, batch and other request locations may read: below `data_root` (which
        s3:// URIs map onto) and below the `data_urls` prefixes (see `tidecast.data.locations`).
        Without a data root no local path is read: the callers are remote."""
        return LocationPolicy.of([self.data_root], self.data_root, self.data_urls, local_as_given=False)
