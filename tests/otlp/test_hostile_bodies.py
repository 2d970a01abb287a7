"""Any body, in any encoding POST /v1/logs takes, is answered without a 5xx."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.otlp.messages import record, request


@pytest.fixture
def gan(make_job: Any) -> None:
    make_job(name="gan")


_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)
# Objects shaped like OTLP/JSON, with anything where its values go.
_OTLP_SHAPED = st.fixed_dictionaries(
    {
        "resourceLogs": st.lists(
            st.fixed_dictionaries(
                {
                    "scopeLogs": st.lists(
                        st.fixed_dictionaries({"logRecords": st.lists(_JSON, max_size=3)}),
                        max_size=2,
                    )
                },
                optional={"resource": _JSON},
            ),
            max_size=2,
        )
    }
)


@_SETTINGS
@given(body=st.binary(max_size=300), gzipped=st.booleans(), as_json=st.booleans())
def test_any_bytes_are_a_200_or_a_400(api, body, gzipped, as_json):
    headers = {"Content-Type": "application/json" if as_json else "application/x-protobuf"}
    if gzipped:
        body, headers["Content-Encoding"] = gzip.compress(body), "gzip"

    response = api.post("/v1/logs", content=body, headers=headers)

    assert response.status_code in (200, 400), response.content


@_SETTINGS
@given(document=_JSON | _OTLP_SHAPED)
def test_any_json_is_a_200_or_a_400(api, document: Any):
    text = json.dumps(document).encode()
    response = api.post("/v1/logs", content=text, headers={"Content-Type": "application/json"})

    assert response.status_code in (200, 400), response.content


@_SETTINGS
@given(
    bodies=st.lists(st.text() | st.binary(), max_size=5),
    job=st.text(max_size=70),
    run=st.text(max_size=70),
    stream=st.text(max_size=300),
    time=st.integers(0, 2**64 - 1),
)
def test_any_names_and_times_are_kept_or_refused_in_the_answer(
    api, gan, bodies, job, run, stream, time
):
    sent = request(
        *(record(body, time, logmetrics_run=run, logmetrics_stream=stream) for body in bodies),
        logmetrics_job=job or "gan",
    )

    response = api.post(
        "/v1/logs",
        content=sent.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
    )

    assert response.status_code == 200, response.content
