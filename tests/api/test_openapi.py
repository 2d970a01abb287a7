"""The OpenAPI document says how access control works."""

from __future__ import annotations


def test_every_route_but_healthz_declares_the_bearer_scheme_and_its_401_and_403(api):
    document = api.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    checked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path == "/healthz":
                assert "security" not in operation and "401" not in operation["responses"]
                continue
            assert operation["security"] == [{"bearer": []}, {}], (method, path)
            for status in ("401", "403"):
                answer = operation["responses"][status]
                assert answer["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorPublic"
                }
            checked += 1
    assert checked == 27  # every operation of the API but /healthz


def test_every_field_of_every_schema_says_what_it_is(api):
    document = api.get("/openapi.json").json()
    # FastAPI's own validation-error models, which its default 422 answer names.
    fastapis = {"HTTPValidationError", "ValidationError"}

    missing = [
        f"{name}.{field}"
        for name, schema in document["components"]["schemas"].items()
        if name not in fastapis
        for field, spec in schema.get("properties", {}).items()
        if not spec.get("description", "").strip()
    ]

    assert missing == []
    assert len(document["components"]["schemas"]) > 60  # the walk saw them all
