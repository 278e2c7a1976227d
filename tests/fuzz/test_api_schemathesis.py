"""/api/v1 fuzzed from its own OpenAPI document (schemathesis, through the WSGI app, no network).

Every operation gets schema-valid and schema-violating requests as an analyst (who sees every
district). Each response must pass schemathesis's checks (no 5xx, a documented status, content
type, headers and body as documented, invalid input refused), and a refused request must leave
every table as it was. ``positive_data_acceptance`` is left out: a schema-valid spec naming a
wave that does not exist is rightly refused (422), which that check would call a failure.
"""
from __future__ import annotations

import functools

import pytest
import schemathesis
from hypothesis import event, given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.fuzz.conftest import stored_rows
from tests.web.test_api import make_user

OPENAPI = "/api/v1/openapi.json"


@functools.cache
def api_operations(app) -> dict:
    """The document's operations by label, read once per application (per backend)."""
    schema = schemathesis.openapi.from_wsgi(OPENAPI, app)
    return {op.label: op for op in (result.ok() for result in schema.get_all_operations())}


@pytest.fixture
def analyst_headers(world) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_user('ana', 'analyst')}"}


# Schemathesis leaves out the document's own path (/openapi.json); tests/web/test_api.py checks it.
OPERATIONS = ("GET /waves", "GET /questionnaires", "GET /questionnaires/{key}/{version}/xlsform",
              "GET /runs", "POST /runs", "GET /runs/{run_id}", "POST /runs/{run_id}/rerun",
              "GET /runs/{run_id}/results", "GET /waves/{label}/microdata",
              "GET /waves/{label}/small-area", "GET /waves/{label}/latent-index",
              "GET /composite", "GET /waves/{label}/plan",
              "GET /jobs/{job_id}", "GET /jobs/{job_id}/file")


def test_every_operation_is_fuzzed(app):
    assert set(api_operations(app)) == set(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_api_operation_conforms_and_refuses_cleanly(app, analyst_headers, fuzz_settings, label):
    operation = api_operations(app)[label]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @fuzz_settings
    @given(case=cases)
    def property(case):
        before = stored_rows()
        response = case.call(headers=analyst_headers)
        event(f"status {response.status_code}")  # --hypothesis-show-statistics
        case.validate_response(response, headers=analyst_headers,
                               excluded_checks=[schemathesis.checks.positive_data_acceptance])
        if response.status_code >= 400:
            assert stored_rows() == before, f"{label} {response.status_code} changed rows"

    property()
