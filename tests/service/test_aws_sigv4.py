"""SigV4: the verifier against botocore's own signer, then boto3 against a keyed service.

The verifier (`tidecast.service.aws.sigv4`) is written from AWS's algorithm; every signature
here is produced by botocore's `SigV4Auth`, so a verifier that canonicalised anything
differently from the SDKs would fail these tests. Over HTTP (uvicorn on 127.0.0.1), boto3
signs with credentials tidecast issued; a tampered body or header, a wrong secret, an
expired time, another region and a revoked pair are refused with AWS's error codes and a
message, and API keys keep working beside them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import serve_in_thread
from tidecast.registry.db import Database
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app
from tidecast.service.aws.credentials import CredentialStore, IssuedCredential
from tidecast.service.aws.sigv4 import SignatureError, SignedRequest, canonical_uri, verify

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
KEY_ID = "TCAKEXAMPLE000000000"


def signed(
    url: str,
    body: bytes = b"{}",
    headers: dict[str, str] | None = None,
    secret: str = SECRET,
    region: str = "us-east-1",
    service: str = "sagemaker",
) -> tuple[SignedRequest, dict[str, str]]:
    """A request signed by botocore, as (what the server receives, the headers sent)."""
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers=headers
        or {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "SageMaker.ListEndpoints"},
    )
    SigV4Auth(Credentials(KEY_ID, secret), service, region).add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    sent = dict(prepared.headers.items())
    received = SignedRequest(
        "POST", parts.path, parts.query, [*sent.items(), ("Host", parts.netloc)], prepared.body
    )
    return received, sent


def secret_of(key: str) -> str | None:
    return SECRET if key == KEY_ID else None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/",
        "http://127.0.0.1:8080/endpoints/demand-ep/invocations",
        "http://127.0.0.1:8080/a%20b/./c/../d?b=2&a=1%2F&c=x%20y&a=0",
        "http://localhost/",
    ],
)
def test_when_botocore_signs_then_the_verifier_accepts(url: str) -> None:
    request, _ = signed(url)
    credential = verify(request, secret_of, "us-east-1", "sagemaker")
    assert credential.access_key_id == KEY_ID and credential.region == "us-east-1"
    assert "host" in credential.signed_headers and "x-amz-date" in credential.signed_headers


def test_when_the_body_or_a_signed_header_is_tampered_then_the_signature_fails() -> None:
    request, _ = signed("http://127.0.0.1:8080/", body=b'{"EndpointName": "a"}')
    cases = {
        "body": SignedRequest(
            request.method, request.raw_path, request.query, request.headers, b'{"EndpointName": "b"}'
        ),
        "header": SignedRequest(
            request.method,
            request.raw_path,
            request.query,
            [(k, "SageMaker.DeleteEndpoint" if k == "X-Amz-Target" else v) for k, v in request.headers],
            request.body,
        ),
        "path": SignedRequest(request.method, "/other", request.query, request.headers, request.body),
        "method": SignedRequest("PUT", request.raw_path, request.query, request.headers, request.body),
    }
    for what, tampered in cases.items():
        with pytest.raises(SignatureError) as caught:
            verify(tampered, secret_of, "us-east-1", "sagemaker")
        assert caught.value.code == "InvalidSignatureException", what
        assert "does not match" in caught.value.message


def test_the_scope_time_and_key_are_checked_before_the_signature() -> None:
    request, _ = signed("http://127.0.0.1:8080/")
    now = datetime.now(UTC)
    verify(request, secret_of, "us-east-1", "sagemaker", now=now + timedelta(minutes=14))
    failures = {
        "expired": lambda: verify(
            request, secret_of, "us-east-1", "sagemaker", now=now + timedelta(minutes=16)
        ),
        "future": lambda: verify(
            request, secret_of, "us-east-1", "sagemaker", now=now - timedelta(minutes=16)
        ),
        "region": lambda: verify(request, secret_of, "eu-west-1", "sagemaker"),
        "service": lambda: verify(signed("http://h/", service="s3")[0], secret_of, "us-east-1", "sagemaker"),
        "unknown key": lambda: verify(request, lambda key: None, "us-east-1", "sagemaker"),
        "wrong secret": lambda: verify(
            signed("http://h/", secret="x" * 40)[0], secret_of, "us-east-1", "sagemaker"
        ),
    }
    codes = {}
    for what, call in failures.items():
        with pytest.raises(SignatureError) as caught:
            call()
        codes[what] = (caught.value.code, caught.value.message)
    assert codes["expired"][0] == codes["future"][0] == "InvalidSignatureException"
    assert "Signature expired" in codes["expired"][1]
    assert "'eu-west-1'" in codes["region"][1] and "'us-east-1'" in codes["region"][1]
    assert "'s3'" in codes["service"][1]
    assert codes["unknown key"][0] == "UnrecognizedClientException"
    assert codes["wrong secret"][0] == "InvalidSignatureException"


def test_canonical_uri_matches_botocore_for_encoded_and_dotted_paths() -> None:
    assert canonical_uri("/") == "/"
    assert canonical_uri("/a%20b/c") == "/a%2520b/c"  # botocore encodes the sent path once more
    assert canonical_uri("/a/./b/../c/") == "/a/c/"


# ---- over HTTP --------------------------------------------------------------------------------
@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    return ServiceSettings(home=tmp_path, database_url=database_url, aws_region="us-east-1")


@pytest.fixture
def served(settings: ServiceSettings, database: Database) -> Iterator[tuple[str, CredentialStore]]:
    app = create_app(settings, database=database)
    with serve_in_thread(app) as url:
        yield url, app.state.service.auth.signatures.store  # the app's: revoking clears its cache


def sagemaker(url: str, pair: IssuedCredential | tuple[str, str], region: str = "us-east-1") -> object:
    key, secret = (pair.access_key_id, pair.secret_access_key) if isinstance(pair, IssuedCredential) else pair
    return boto3.client(
        "sagemaker",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


def error_of(call: object) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()  # type: ignore[operator]
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_boto3_signed_with_issued_credentials_is_admitted_and_bad_signatures_are_not(
    served: tuple[str, CredentialStore],
) -> None:
    url, store = served
    admin = store.create("ci", "admin")
    assert admin.access_key_id.startswith("TCAK") and len(admin.secret_access_key) == 40
    assert sagemaker(url, admin).list_endpoints()["Endpoints"] == []  # type: ignore[attr-defined]

    wrong = sagemaker(url, (admin.access_key_id, "x" * 40))
    code, message = error_of(wrong.list_endpoints)  # type: ignore[attr-defined]
    assert code == "InvalidSignatureException" and "does not match" in message
    code, message = error_of(sagemaker(url, admin, region="eu-west-1").list_endpoints)  # type: ignore[attr-defined]
    assert code == "InvalidSignatureException" and "'us-east-1'" in message

    forecaster = store.create("shop", "forecast")
    code, message = error_of(sagemaker(url, forecaster).list_endpoints)  # type: ignore[attr-defined]
    assert code == "AccessDeniedException" and "'admin'" in message
    runtime = boto3.client(
        "sagemaker-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=forecaster.access_key_id,
        aws_secret_access_key=forecaster.secret_access_key,
    )
    # the forecast role passes the runtime's check: what is left is the unknown endpoint
    code, message = error_of(lambda: runtime.invoke_endpoint(EndpointName="nope", Body=b"{}"))
    assert code == "ValidationError" and message == "Endpoint nope of account 000000000000 not found."

    store.revoke("ci")
    code, message = error_of(sagemaker(url, admin).list_endpoints)  # type: ignore[attr-defined]
    assert code == "UnrecognizedClientException" and message


def test_a_tampered_body_over_http_is_refused_with_an_aws_error(served: tuple[str, CredentialStore]) -> None:
    url, store = served
    pair = store.create("ci", "admin")
    request = AWSRequest(
        method="POST",
        url=url + "/",
        data=b'{"NameContains": "a"}',
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "SageMaker.ListEndpoints"},
    )
    SigV4Auth(Credentials(pair.access_key_id, pair.secret_access_key), "sagemaker", "us-east-1").add_auth(
        request
    )
    headers = dict(request.prepare().headers.items())
    honest = httpx.post(url + "/", content=b'{"NameContains": "a"}', headers=headers)
    assert honest.status_code == 200 and honest.json() == {"Endpoints": []}
    tampered = httpx.post(url + "/", content=b'{"NameContains": "b"}', headers=headers)
    assert tampered.status_code == 403
    assert tampered.headers["x-amzn-errortype"] == "InvalidSignatureException"
    assert tampered.json()["__type"] == "InvalidSignatureException" and tampered.json()["message"]
    retargeted = httpx.post(
        url + "/",
        content=b'{"NameContains": "a"}',
        headers={**headers, "X-Amz-Target": "SageMaker.ListModelPackages"},
    )
    assert retargeted.status_code == 403 and retargeted.json()["__type"] == "InvalidSignatureException"


def test_api_keys_keep_working_beside_signatures(
    served: tuple[str, CredentialStore], database: Database
) -> None:
    from tidecast.service.auth import KeyStore

    url, _ = served
    token = KeyStore(database.sessions).create("ops", "admin")
    assert httpx.get(url + "/v1/jobs", headers={"X-API-Key": token}).json() == {"jobs": []}
    listed = httpx.post(
        url + "/", content=b"{}", headers={"X-API-Key": token, "X-Amz-Target": "SageMaker.ListEndpoints"}
    )
    assert listed.status_code == 200 and json.loads(listed.content) == {"Endpoints": []}
    unsigned = httpx.post(url + "/", content=b"{}", headers={"X-Amz-Target": "SageMaker.ListEndpoints"})
    assert unsigned.status_code == 403
    assert unsigned.json()["__type"] == "MissingAuthenticationTokenException"


def test_the_keys_command_issues_lists_and_revokes_aws_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from tidecast.cli.keys import keys_app

    monkeypatch.setenv("TIDECAST_HOME", str(tmp_path))
    runner = CliRunner()
    issued = runner.invoke(keys_app, ["create-aws", "ci", "--role", "forecast"])
    assert issued.exit_code == 0, issued.output
    pairs = dict(line.split(" = ") for line in issued.stdout.splitlines() if " = " in line)
    assert pairs["aws_access_key_id"].startswith("TCAK") and len(pairs["aws_secret_access_key"]) == 40
    assert pairs["region"] == "us-east-1"
    assert runner.invoke(keys_app, ["create-aws", "ci"]).exit_code == 1  # one live pair per name
    listed = runner.invoke(keys_app, ["list"]).stdout
    assert "ci\tforecast\tactive" in listed and pairs["aws_access_key_id"] in listed
    assert pairs["aws_secret_access_key"] not in listed
    assert runner.invoke(keys_app, ["revoke", "ci"]).exit_code == 0
    assert "ci\tforecast\trevoked" in runner.invoke(keys_app, ["list"]).stdout
    assert runner.invoke(keys_app, ["revoke", "ci"]).exit_code == 2  # none active by that name


def test_issued_secrets_are_40_letters_and_digits_so_no_cli_reads_one_as_an_option(
    database: Database,
) -> None:
    # URL-safe base64 began one secret in 64 with "-": `aws configure set ... VALUE` refused it.
    store = CredentialStore(database.sessions)
    issued = [store.create(f"k{i}", "admin").secret_access_key for i in range(300)]
    assert all(len(s) == 40 and s.isascii() and s.isalnum() for s in issued)
    assert len(set(issued)) == len(issued)
