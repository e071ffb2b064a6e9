"""Schema-driven fuzzing: schemathesis generates requests from the served OpenAPI spec (valid and invalid ones)
and checks that every answer is documented there — status code, content type, body schema — and never a 5xx."""

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from test_server import TOKEN, Served

from agent.policy import load_policy
from server.app import create_app
from server.settings import Settings

EXAMPLES = 25  # per operation: enough to hit every field with junk, small enough for CI (< 60 s in all)
# schemathesis's lazy fixture loader breaks on pytest 9 (Function._nodeid), so the spec is read from the app
# here and the first test checks that uvicorn serves exactly this spec
APP = create_app(Settings(policy="rules", token=TOKEN, max_queue=64, max_roll_photos=8), load_policy("rules"))
schema = schemathesis.openapi.from_dict(APP.openapi())


@pytest.fixture(scope="module")
def served():
    s = Served(APP)
    yield s
    s.close()


def test_the_spec_is_the_served_one(served):
    assert httpx.get(f"{served.url}/openapi.json").json() == APP.openapi()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)
def test_api(case, served):
    # a schema-valid request may still carry bytes that are no JPEG: 4xx for it is right, not a failure
    case.call_and_validate(
        base_url=served.url, headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=[positive_data_acceptance]
    )


def test_still_serving_after_the_fuzzing(served):
    r = httpx.get(f"{served.url}/v1/health", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.json()["queue_depth"] == 0
