"""The AWS-compatible surface of the service, beside the native routes: existing boto3 and AWS
CLI scripts run against tidecast with only the endpoint URL and credentials changed.

* `sigv4` and `credentials`: AWS-style credential pairs tidecast issues
  (``tidecast keys create-aws``) and the SigV4 check of requests signed with them;
* `errors`: AWS's error shapes, for the control plane and for every problem the runtime answers;
* `control_plane` (``POST /``, ``X-Amz-Target: SageMaker.<Op>``) with one module per resource
  family: `automl` (jobs; their candidates in `candidates` and `candidate_properties`),
  `hosting` (models, endpoint configurations, endpoints) and `packages` (the model registry),
  all on tidecast's own jobs, registry and endpoints, with `resources` holding the AWS names
  tidecast has no table for.

`install_aws(app)` wires it into the app `create_app` built.
"""

from __future__ import annotations

from fastapi import FastAPI

from tidecast.service.aws.control_plane import router
from tidecast.service.aws.credentials import CredentialStore, SignatureAuth
from tidecast.service.aws.errors import AwsProtocolMiddleware
from tidecast.service.aws.hosting import variant_lookup
from tidecast.service.aws.resources import Context, Resources
from tidecast.service.dependencies import ServiceState


def install_aws(app: FastAPI) -> None:
    """Mount the control plane, verify SigV4 signatures with the issued credentials, and answer
    AWS-protocol requests' errors in AWS's shape. Call it after the app's other middleware, so
    the error shapes cover their answers (the body limit's 413) too."""
    state: ServiceState = app.state.service
    settings = state.settings
    context = Context(state, Resources(state.database.sessions), settings.aws_region, settings.aws_account_id)
    app.state.aws = context
    state.auth.signatures = SignatureAuth(CredentialStore(state.database.sessions), settings.aws_region)
    app.include_router(router)
    app.add_middleware(
        AwsProtocolMiddleware, variant_of=variant_lookup(context), account=settings.aws_account_id
    )
