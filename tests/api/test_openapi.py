"""The OpenAPI document says how access control works, and what every field is."""

from __future__ import annotations

from typing import Any


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
    assert checked == 35  # every operation of the API but /healthz


def test_every_field_of_every_schema_says_what_it_is(api):
    document = api.get("/openapi.json").json()

    missing = undescribed(document)
    assert not missing, f"fields without a description: {', '.join(missing)}"
    assert len(document["components"]["schemas"]) > 60  # the walk saw them all


def test_a_refused_request_is_documented_as_the_error_the_service_answers(api):
    document = api.get("/openapi.json").json()
    error = {"$ref": "#/components/schemas/ErrorPublic"}
    answers = [
        operation["responses"]["422"]["content"]["application/json"]["schema"]
        for operations in document["paths"].values()
        for operation in operations.values()
        if "422" in operation["responses"]
    ]
    assert answers and all(answer == error for answer in answers)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_walk_finds_nested_fields_and_refs_to_undescribed_schemas():
    document = {
        "components": {
            "schemas": {
                "Described": {"description": "A thing.", "properties": {}},
                "Bare": {"properties": {}},
                "Job": {
                    "properties": {
                        "a": {"$ref": "#/components/schemas/Described"},
                        "b": {"$ref": "#/components/schemas/Bare"},
                        "c": {
                            "description": "Items.",
                            "type": "array",
                            "items": {"properties": {"d": {"type": "string"}}},
                        },
                        "e": {
                            "description": "Either.",
                            "anyOf": [{"properties": {"f": {"type": "integer"}}}],
                        },
                        "g": {"description": " "},
                    }
                },
            }
        }
    }

    assert undescribed(document) == ["Job.b", "Job.c[].d", "Job.e.f", "Job.g"]


def undescribed(document: dict[str, Any]) -> list[str]:
    """Every property, at any depth, of every component schema that has no description.

    A property that is only a `$ref` passes if the schema it names has a description.
    Schemas named by a `$ref` are walked once, where they are defined.
    """
    schemas = document["components"]["schemas"]
    missing: list[str] = []

    def described(spec: dict[str, Any]) -> bool:
        if spec.get("description", "").strip():
            return True
        if set(spec) == {"$ref"}:
            named = schemas[spec["$ref"].rsplit("/", 1)[-1]]
            return bool(named.get("description", "").strip())
        return False

    def walk(schema: dict[str, Any], where: str) -> None:
        for field, spec in schema.get("properties", {}).items():
            if not described(spec):
                missing.append(f"{where}.{field}")
            walk(spec, f"{where}.{field}")
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                walk(schema[key], f"{where}[]")
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            for branch in schema.get(key, []):
                walk(branch, where)

    for name, schema in schemas.items():
        walk(schema, name)
    return missing
