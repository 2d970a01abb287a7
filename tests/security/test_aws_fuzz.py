"""Hostile requests to the AWS faces of `POST /` (SageMaker's, CloudWatch Logs' and
CloudWatch's operations, as their models list them), headers as well as bodies, AWS JSON
and CloudWatch's query protocol forms, against the service as a real process, with access
control off and on: no answer is a 5xx, every refusal is AWS's error shape (JSON's
`__type` and `message`; the query protocol's `<ErrorResponse>` with a `<Code>`), and the
process is alive at the end.

Headers are what a client can put on the wire: the target repeated, joined with a comma
or garbled, odd content types, garbage and half-right SigV4 Authorization headers, dates
outside any calendar, and Latin-1 bytes past ASCII. Some requests are signed by botocore
with a configured key and then have headers added, so the fuzz reaches the signature
check and the operations behind it, not only the first refusal.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.clients.service_process import ServiceProcess
from app.cloudwatch.model import OPERATIONS as CLOUDWATCH_OPERATIONS
from app.cloudwatch_logs.model import OPERATIONS as LOGS_OPERATIONS
from app.sagemaker.model import OPERATIONS as SAGEMAKER_OPERATIONS
from tests.sagemaker.conftest import tuning_request

pytestmark = pytest.mark.slow

KEY, SECRET = "AKIDFUZZ", "fuzz-secret"
JSON_11 = "application/x-amz-json-1.1"
JSON_10 = "application/x-amz-json-1.0"
FORM = "application/x-www-form-urlencoded"
CLOUDWATCH = "GraniteServiceVersion20100801"
# Every operation served, each as its X-Amz-Target, and the service its SigV4 scope names.
OPERATIONS = (
    [f"SageMaker.{operation}" for operation in SAGEMAKER_OPERATIONS]
    + [f"Logs_20140328.{operation}" for operation in LOGS_OPERATIONS]
    + [f"{CLOUDWATCH}.{operation}" for operation in CLOUDWATCH_OPERATIONS]
)
SIGNING_NAME = {"SageMaker": "sagemaker", "Logs_20140328": "logs", CLOUDWATCH: "monitoring"}


@pytest.fixture(scope="module", params=["open", "guarded"])
def process(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    folder: Path = tmp_path_factory.mktemp(f"sagemaker-fuzz-{request.param}")
    service = ServiceProcess(f"sqlite:///{folder / 'fuzz.db'}", folder / "service.log")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOGMETRICS_")}
    if request.param == "guarded":
        environment["LOGMETRICS_AWS_CREDENTIALS"] = f"admin:{KEY}:{SECRET}"
    service.start(environment)
    body = json.dumps(tuning_request("victim")).encode()
    create = sign(service.url, "SageMaker.CreateHyperParameterTuningJob", body)
    answer = httpx.post(service.url + "/", content=body, headers=create, timeout=120)
    assert answer.status_code == 200, answer.text
    # A /v1 job with a run and a log, for CloudWatch Logs' operations to read.
    v1 = httpx.Client(base_url=service.url, timeout=120)
    definitions = [{"Name": "loss", "Regex": "loss=([0-9.]+)"}]
    objective = {"MetricName": "loss", "Type": "Minimize"}
    job = {"name": "logs", "objective": objective, "metric_definitions": definitions}
    assert v1.post("/v1/jobs", json=job).status_code == 201
    assert v1.post("/v1/jobs/logs/runs", json={"name": "r1"}).status_code == 201
    posted = v1.post("/v1/jobs/logs/runs/r1/logs", content=b"loss=1\n\tloss=0.5\npartial")
    assert posted.status_code == 200
    v1.close()
    yield service
    alive = service.process is not None and service.process.poll() is None
    service.stop()
    assert alive, "the service died"


def sign(url: str, target: str, body: bytes) -> list[tuple[str, bytes]]:
    """Headers botocore signs for `target` with the configured key (Host left to httpx)."""
    face = target.partition(".")[0]
    request = AWSRequest(
        method="POST",
        url=url + "/",
        data=body,
        headers={
            "X-Amz-Target": target,
            "Content-Type": JSON_10 if face == CLOUDWATCH else JSON_11,
        },
    )
    SigV4Auth(Credentials(KEY, SECRET), SIGNING_NAME[face], "eu-west-1").add_auth(request)
    return [(name, value.encode("latin-1")) for name, value in request.headers.items()]


def sign_form(url: str, body: bytes) -> list[tuple[str, bytes]]:
    """Headers botocore signs for a query protocol form, as for CloudWatch."""
    request = AWSRequest(method="POST", url=url + "/", data=body, headers={"Content-Type": FORM})
    SigV4Auth(Credentials(KEY, SECRET), "monitoring", "eu-west-1").add_auth(request)
    return [(name, value.encode("latin-1")) for name, value in request.headers.items()]


def header_value(raw: bytes) -> bytes:
    """What h11 lets a client send as a header value: no controls but tab, no CR or LF,
    no whitespace at either end; bytes past ASCII stay (Latin-1 on the wire)."""
    kept = bytes(b if b == 0x09 or 0x20 <= b <= 0x7E or b >= 0x80 else 0x3F for b in raw)
    return kept.strip(b" \t")


HOSTILE_TEXT = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=20),
    st.sampled_from(["\ud800", "a\x00b", "", " " * 300, "--privileged", "-1", "9" * 40]),
)
VALUE = st.one_of(
    HOSTILE_TEXT,
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.booleans(),
    st.none(),
    st.lists(HOSTILE_TEXT, max_size=2),
    st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT, max_size=2),
)
MEMBERS = st.sampled_from(
    [
        "HyperParameterTuningJobName",
        "TrainingJobName",
        "NextToken",
        "MaxResults",
        "SortBy",
        "SortOrder",
        "NameContains",
        "StatusEquals",
        "CreationTimeAfter",
        "logGroupName",
        "logStreamName",
        "logStreamNamePrefix",
        "logStreamNames",
        "nextToken",
        "limit",
        "startTime",
        "endTime",
        "startFromHead",
        "filterPattern",
        "orderBy",
        "descending",
        "Namespace",
        "MetricName",
        "Dimensions",
        "StartTime",
        "EndTime",
        "Period",
        "Statistics",
        "ExtendedStatistics",
        "MetricDataQueries",
        "MaxDatapoints",
        "ScanBy",
        "RecentlyActive",
        "OwningAccount",
    ]
)
# Names that exist, so the fuzz reaches reading, paging and filtering a real stream.
LOGS_BODIES = st.fixed_dictionaries(
    {"logGroupName": st.sampled_from(["/logmetrics/logs", "/aws/sagemaker/TrainingJobs"])},
    optional={
        "logStreamName": st.sampled_from(["r1/stdout", "victim/algo-1-0", "r1/"]),
        "nextToken": st.one_of(
            HOSTILE_TEXT, st.sampled_from(["f/e30=", "b/eyJzdGRvdXQiOjd9", "n/e30=", "f/"])
        ),
        "filterPattern": st.one_of(
            HOSTILE_TEXT, st.sampled_from(['"loss', "?loss ?x", "{ $.a = 1 }", "-x"])
        ),
        "limit": st.one_of(st.integers(min_value=1, max_value=3), VALUE),
        "startFromHead": VALUE,
        "startTime": VALUE,
    },
)


# CloudWatch's members, with a metric that exists (`/logmetrics/logs`, r1's loss) so the
# fuzz reaches bucketing, statistics and paging.
TIME = st.one_of(
    st.floats(min_value=1.7e9, max_value=1.9e9), st.sampled_from([0, -1, 1e300, 10**40]), VALUE
)
STATISTIC = st.one_of(
    st.sampled_from(["Average", "Sum", "p0", "p100", "p99.99", "p100.1", "tm99", "p"]),
    HOSTILE_TEXT,
)
DIMENSIONS = st.one_of(
    st.just([{"Name": "RunName", "Value": "r1"}]),
    st.lists(st.fixed_dictionaries({"Name": HOSTILE_TEXT, "Value": HOSTILE_TEXT}), max_size=3),
    VALUE,
)
METRIC = st.fixed_dictionaries(
    {
        "Namespace": st.one_of(
            st.sampled_from(["/logmetrics/logs", "/aws/sagemaker/TrainingJobs"]), HOSTILE_TEXT
        ),
        "MetricName": st.one_of(st.just("loss"), HOSTILE_TEXT),
        "Dimensions": DIMENSIONS,
    }
)
PERIOD = st.one_of(st.sampled_from([1, 60, 3600, 45, 0, 10**40]), VALUE)
CLOUDWATCH_BODIES = st.fixed_dictionaries(
    {"StartTime": TIME, "EndTime": TIME},
    optional={
        "Namespace": METRIC.map(lambda metric: metric["Namespace"]),
        "MetricName": st.one_of(st.just("loss"), HOSTILE_TEXT),
        "Dimensions": DIMENSIONS,
        "Period": PERIOD,
        "Statistics": st.one_of(st.lists(STATISTIC, max_size=3), VALUE),
        "ExtendedStatistics": st.one_of(st.lists(STATISTIC, max_size=3), VALUE),
        "MetricDataQueries": st.lists(
            st.fixed_dictionaries(
                {"Id": st.one_of(st.sampled_from(["m", "n", "Upper"]), HOSTILE_TEXT)},
                optional={
                    "MetricStat": st.fixed_dictionaries(
                        {"Metric": METRIC, "Period": PERIOD, "Stat": STATISTIC}
                    ),
                    "Expression": HOSTILE_TEXT,
                    "ReturnData": VALUE,
                },
            ),
            max_size=3,
        ),
        "NextToken": st.one_of(HOSTILE_TEXT, st.sampled_from(["WzEsICJ4Il0=", "WyJhIiwgImIiXQ=="])),
        "MaxDatapoints": st.one_of(st.integers(min_value=-1, max_value=3), VALUE),
        "ScanBy": VALUE,
        "RecentlyActive": st.one_of(st.just("PT3H"), VALUE),
    },
)


def _hostile_tuning_job(draw: st.DrawFn) -> dict[str, object]:
    request = tuning_request(draw(st.sampled_from(["victim", "fuzzed"])))
    definition = request["TrainingJobDefinition"]
    where = draw(st.sampled_from(["image", "range", "static", "environment"]))
    value = draw(VALUE)
    if where == "image":
        definition["AlgorithmSpecification"]["TrainingImage"] = value
    elif where == "range":
        ranges = request["HyperParameterTuningJobConfig"]["ParameterRanges"]
        ranges["ContinuousParameterRanges"][0][draw(st.sampled_from(["MinValue", "MaxValue"]))] = (
            value
        )
    elif where == "static":
        definition["StaticHyperParameters"] = {"epochs": value}
    else:
        definition["Environment"] = {"SM_X": value}
    return request


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["members", "tuning-job", "logs", "cloudwatch", "bytes", "nested"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "nested":  # up to what json.loads reads, and past it
        depth = draw(st.integers(min_value=1, max_value=1100))
        member = draw(MEMBERS)
        return f'{{"{member}": {"[" * depth}{"]" * depth}}}'.encode()
    if kind == "tuning-job":
        body: object = _hostile_tuning_job(draw)
    elif kind == "logs":
        body = draw(LOGS_BODIES)
    elif kind == "cloudwatch":
        body = draw(CLOUDWATCH_BODIES)
    else:
        body = draw(st.dictionaries(MEMBERS, VALUE, max_size=4))
    # \ud800 goes as a JSON escape, as any client may send it.
    return json.dumps(body).encode()


TARGETS = st.one_of(
    st.sampled_from(OPERATIONS),
    st.sampled_from(
        [
            "Logs_20140328.PutLogEvents",
            "Logs_20140328.",
            "logs_20140328.GetLogEvents",
            "SageMaker.DescribeHyperParameterTuningJob,SageMaker.DeleteHyperParameterTuningJob",
            "SageMaker.",
            "SageMaker",
            ".DeleteHyperParameterTuningJob",
            "sagemaker.ListTrainingJobs",
            "SageMaker.CreateEndpoint",
            f"{CLOUDWATCH}.PutMetricData",
            f"{CLOUDWATCH}.",
        ]
    ),
    st.binary(max_size=40).map(lambda raw: raw.decode("latin-1")),
)
AUTHORIZATIONS = st.one_of(
    st.binary(max_size=80).map(lambda raw: raw.decode("latin-1")),
    st.builds(
        lambda scope, headers, signature: (
            f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={headers}, Signature={signature}"
        ),
        st.sampled_from(
            [
                f"{KEY}/20261206/eu-west-1/sagemaker/aws4_request",
                f"{KEY}/20261206/eu-west-1/logs/aws4_request",
                f"{KEY}/20261206/eu-west-1/monitoring/aws4_request",
                "AKIDNOBODY/20261206/Not_A:Region!/sagemaker/aws4_request",
                f"{KEY}/x/y",
                f"{KEY}//////",
            ]
        ),
        st.sampled_from(
            [
                "host",
                "content-type;host;x-amz-target",
                "content-type;host;x-amz-date;x-amz-target",
                "host;x-amz-date;missing-header",
                ";;;",
            ]
        ),
        st.sampled_from(["0" * 64, "f" * 64, "0" * 63]),
    ),
)
ONE_TARGET = st.sampled_from(OPERATIONS).map(lambda target: [target])


def headers(
    targets: st.SearchStrategy[list[str]], authorization: st.SearchStrategy[str | None]
) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            "targets": targets,
            "content_type": st.one_of(
                st.none(),
                st.sampled_from(
                    [JSON_11, JSON_10, FORM, "application/json", "text/plain; charset=utf-16", ""]
                ),
                st.binary(max_size=30).map(lambda raw: raw.decode("latin-1")),
            ),
            "authorization": authorization,
            "date": st.one_of(
                st.none(),
                st.sampled_from(
                    ["20261206T000000Z", "99991231T235959Z", "00000000T000000Z", "now"]
                ),
                st.binary(max_size=20).map(lambda raw: raw.decode("latin-1")),
            ),
            "sha256": st.one_of(st.none(), st.sampled_from(["UNSIGNED-PAYLOAD", "0" * 64, "\xe9"])),
        }
    )


# Mostly one operation, so that the fuzz gets past the target to what follows it.
HEADERS = headers(
    st.one_of(ONE_TARGET, ONE_TARGET, st.lists(TARGETS, max_size=3)),
    st.one_of(st.none(), AUTHORIZATIONS),
)
# Added to a signed request: mostly no second target, so the signature check is reached.
# A second Authorization header joins the signed one, which is then no SigV4 header.
ADDED_HEADERS = headers(
    st.one_of(st.just([]), st.just([]), st.lists(TARGETS, max_size=2)),
    st.one_of(st.none(), st.none(), st.none(), AUTHORIZATIONS),
)


def hostile_headers(given: dict) -> list[tuple[str, bytes]]:
    headers: list[tuple[str, bytes]] = [
        ("X-Amz-Target", header_value(t.encode("latin-1"))) for t in given["targets"]
    ]
    for name, key in [
        ("Content-Type", "content_type"),
        ("Authorization", "authorization"),
        ("X-Amz-Date", "date"),
        ("X-Amz-Content-Sha256", "sha256"),
    ]:
        if given[key] is not None:
            headers.append((name, header_value(given[key].encode("latin-1"))))
    return headers


def check(answer: httpx.Response, request: object) -> None:
    assert answer.status_code < 500, (request, answer.status_code, answer.text)
    if answer.headers["content-type"].startswith("text/xml"):
        check_xml(answer, request)
        return
    found = answer.json()
    assert isinstance(found, dict), (request, answer.text)
    if answer.status_code != 200:
        assert isinstance(found.get("__type"), str) and "message" in found, (request, found)
    # What the fuzz reached (pytest --hypothesis-show-statistics).
    event(f"{answer.status_code} {found.get('__type', 'served')}")


def check_xml(answer: httpx.Response, request: object) -> None:
    """A query protocol answer: the operation's `<...Response>`, or `<ErrorResponse>`
    with a code and a message."""
    root = ElementTree.fromstring(answer.content)
    tag = root.tag.rpartition("}")[2]
    if answer.status_code == 200:
        assert tag.endswith("Response") and tag != "ErrorResponse", (request, answer.text)
        event(f"200 {tag}")
        return
    assert tag == "ErrorResponse", (request, answer.text)
    namespace = root.tag.rpartition("}")[0] + "}" if "}" in root.tag else ""
    code = root.findtext(f"{namespace}Error/{namespace}Code")
    assert code and root.findtext(f"{namespace}Error/{namespace}Message"), (request, answer.text)
    event(f"{answer.status_code} {code}")


FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(body=bodies(), headers=HEADERS)
def test_hostile_headers_and_bodies_get_an_aws_error_never_a_5xx(process, body, headers):
    sent = hostile_headers(headers)
    with httpx.Client(base_url=process.url, timeout=120) as client:
        check(client.post("/", content=body, headers=sent), (sent, body))


@FUZZ
@given(
    target=st.sampled_from(OPERATIONS),
    body=bodies(),
    extra=ADDED_HEADERS,
    where=st.sampled_from(["before", "after"]),
)
def test_signed_requests_with_hostile_headers_added_get_an_aws_error_never_a_5xx(
    process, target, body, extra, where
):
    signed = sign(process.url, target, body)
    added = hostile_headers(extra)
    sent = [*added, *signed] if where == "before" else [*signed, *added]
    with httpx.Client(base_url=process.url, timeout=120) as client:
        answer = client.post("/", content=body, headers=sent)
        check(answer, (sent, body))
        if any(name == "X-Amz-Target" for name, _ in added):
            # A second target is never served, signed or not.
            assert answer.status_code == 400, (sent, body, answer.text)
        # The job the fuzz may not delete is still there.
        if target != "SageMaker.DeleteHyperParameterTuningJob":
            described = {"HyperParameterTuningJobName": "victim"}
            payload = json.dumps(described).encode()
            probe = sign(process.url, "SageMaker.DescribeHyperParameterTuningJob", payload)
            assert client.post("/", content=payload, headers=probe).status_code == 200


# A query protocol form: an Action and Version (mostly CloudWatch's), and members by path.
QUERY_KEYS = st.one_of(
    st.sampled_from(
        [
            "Namespace",
            "MetricName",
            "StartTime",
            "EndTime",
            "Period",
            "Statistics.member.1",
            "Statistics.member.2",
            "Statistics",
            "ExtendedStatistics.member.1",
            "Dimensions.member.1.Name",
            "Dimensions.member.1.Value",
            "Dimensions.member.0.Name",
            "Dimensions.member.99999999999.Name",
            "Dimensions.member.1",
            "Dimensions.member",
            "Period.member.1",
            "MetricDataQueries.member.1.Id",
            "MetricDataQueries.member.1.Expression",
            "MetricDataQueries.member.1.MetricStat.Metric.Namespace",
            "MetricDataQueries.member.1.MetricStat.Metric.MetricName",
            "MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name",
            "MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value",
            "MetricDataQueries.member.1.MetricStat.Period",
            "MetricDataQueries.member.1.MetricStat.Stat",
            "MetricDataQueries.member.1.ReturnData",
            "MaxDatapoints",
            "NextToken",
            "ScanBy",
            "Action",
            "Version",
            "." * 40,
            "a." * 100,
        ]
    ),
    HOSTILE_TEXT,
)
QUERY_VALUES = st.one_of(
    st.sampled_from(
        [
            "/logmetrics/logs",
            "loss",
            "RunName",
            "r1",
            "2026-12-06T00:00:00Z",
            "2026-12-06T00:00:00.5+05:00",
            "1796515200",
            "1e400",
            "nan",
            "60",
            "-60",
            "9" * 30,
            "Average",
            "p50",
            "true",
            "",
        ]
    ),
    HOSTILE_TEXT,
)


# Forms each operation takes, so that a value or two changed reaches the operation.
GOOD_FORMS = [
    {
        "Action": "GetMetricStatistics",
        "Namespace": "/logmetrics/logs",
        "MetricName": "loss",
        "Dimensions.member.1.Name": "RunName",
        "Dimensions.member.1.Value": "r1",
        "StartTime": "2000-01-01T00:00:00Z",
        "EndTime": "2000-01-01T01:00:00Z",
        "Period": "60",
        "Statistics.member.1": "Average",
    },
    {
        "Action": "GetMetricData",
        "StartTime": "2000-01-01T00:00:00Z",
        "EndTime": "2099-01-01T00:00:00Z",
        "MetricDataQueries.member.1.Id": "m",
        "MetricDataQueries.member.1.MetricStat.Metric.Namespace": "/logmetrics/logs",
        "MetricDataQueries.member.1.MetricStat.Metric.MetricName": "loss",
        "MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name": "RunName",
        "MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value": "r1",
        "MetricDataQueries.member.1.MetricStat.Period": "60",
        "MetricDataQueries.member.1.MetricStat.Stat": "p90",
        "MaxDatapoints": "1",
    },
    {
        "Action": "ListMetrics",
        "Namespace": "/logmetrics/logs",
        "Dimensions.member.1.Name": "RunName",
    },
]


@st.composite
def forms(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(min_value=0, max_value=9))
    if kind == 0:
        return draw(st.binary(max_size=200))
    if kind < 5:
        form = {"Version": "2010-08-01", **draw(st.sampled_from(GOOD_FORMS))}
        changed = draw(st.lists(st.tuples(st.sampled_from(sorted(form)), QUERY_VALUES), max_size=2))
        form.update(changed)
        return urlencode(list(form.items()), errors="surrogatepass").encode()
    pairs = [
        ("Action", draw(st.one_of(st.sampled_from(CLOUDWATCH_OPERATIONS), HOSTILE_TEXT))),
        ("Version", draw(st.one_of(st.just("2010-08-01"), HOSTILE_TEXT))),
    ]
    pairs += draw(st.lists(st.tuples(QUERY_KEYS, QUERY_VALUES), max_size=8))
    pairs = draw(st.permutations(pairs))
    # A lone surrogate goes as the bytes UTF-8 would give it, which are not UTF-8.
    return urlencode(pairs, errors="surrogatepass").encode()


@FUZZ
@given(body=forms(), signed=st.booleans(), extra=ADDED_HEADERS)
def test_hostile_query_forms_get_an_xml_error_never_a_5xx(process, body, signed, extra):
    sent = sign_form(process.url, body) if signed else [("Content-Type", FORM.encode())]
    # Headers added, but no second Content-Type: that would be JSON's, not a form.
    sent += [(name, value) for name, value in hostile_headers(extra) if name != "Content-Type"]
    with httpx.Client(base_url=process.url, timeout=120) as client:
        answer = client.post("/", content=body, headers=sent)
        check(answer, (sent, body))
        if not any(name == "X-Amz-Target" for name, _ in sent):
            assert answer.headers["content-type"].startswith("text/xml"), (sent, body)
