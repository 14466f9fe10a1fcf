"""A bounded schemathesis run over /api/v1/openapi.json, as an administrator and as an enterprise user,
against a real database holding a small world (appeals, policies, an application, a payout, notifications).

Every operation gets a fixed number of generated requests that fit the schema and of requests that do
not (derandomized: the same requests on every run), and every answer must be: no server error, a
status code the OpenAPI declares for the operation, the declared content type, a body that conforms
to the declared schema, and invalid input rejected (4xx). Path ids point at existing objects for half
of the requests so that the code behind the 404s runs too.
"""

import itertools

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from qifu.accounts.models import Role
from qifu.api.v1 import api

from .world import populated

pytestmark = pytest.mark.django_db

EXAMPLES = 10  # per operation, per generation mode, per user
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]


def _schema():
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1/"))
    schema.config.generation.update(with_security_parameters=False, deterministic=True)
    return schema


@pytest.fixture
def app():
    """The WSGI application, called in-process. Like Django's test client, it must not close the database
    connection at the end of each request: that would end the test's transaction (on PostgreSQL)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    w = populated("fz")
    w.bearer = {"admin": w.token(w.users[Role.ADMIN]), "enterprise": w.token(w.users[Role.ENTERPRISE])}
    return w


def _operations():
    return [result.ok() for result in _schema().get_all_operations()]


@pytest.mark.parametrize("operation", _operations(), ids=lambda op: op.label)
def test_the_api_answers_every_request_as_its_openapi_says(app, world, operation):
    counter = itertools.count()

    def run(case, who, mode):
        n = next(counter)
        for name in list(case.path_parameters or {}):
            if mode == GenerationMode.POSITIVE and name in world.ids and n % 2 == 0:  # half on objects that exist
                case.path_parameters[name] = world.ids[name][n // 2 % len(world.ids[name])]
        case.call_and_validate(app=app, headers={"Authorization": f"Bearer {world.bearer[who]}"}, checks=CHECKS)

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for who in ("admin", "enterprise"):
            @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                      phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case):
                run(case, who, mode)

            try:
                fuzz()
            except Unsatisfiable:
                assert mode == GenerationMode.NEGATIVE  # nothing to get wrong: the operation takes no input
