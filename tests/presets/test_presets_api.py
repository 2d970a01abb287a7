"""Presets over HTTP: listed, shown, and usable by name in a job and in a dry run."""

from tests.samples import GAN_LINE


def test_presets_are_listed_by_name(api):
    names = [p["name"] for p in api.get("/v1/presets").json()["presets"]]
    assert names == [
        "gan-example",
        "huggingface-trainer",
        "keras",
        "pytorch-lightning",
        "reference-trainer",
        "xgboost",
    ]


def test_a_preset_shows_its_definitions(api):
    preset = api.get("/v1/presets/gan-example").json()
    assert preset["name"] == "gan-example"
    assert "Loss" in [d["name"] for d in preset["metric_definitions"]]
    missing = api.get("/v1/presets/nope")
    assert missing.status_code == 404
    assert missing.json()["error"] == "preset_not_found"


def test_a_job_takes_a_preset_by_name(api, make_run):
    created = api.post(
        "/v1/jobs",
        json={
            "name": "gan",
            "objective": {"MetricName": "Loss", "Type": "Minimize"},
            "metric_definitions": "gan-example",
        },
    )
    assert created.status_code == 201, created.text
    assert "GAN_loss" in [d["name"] for d in created.json()["metric_definitions"]]
    run = make_run(log=GAN_LINE + "\n", status="Completed")
    assert run["objective"]["value"] == 16.020744


def test_an_unknown_preset_is_a_422_naming_the_known_ones(api):
    response = api.post(
        "/v1/jobs",
        json={
            "name": "gan",
            "objective": {"MetricName": "Loss", "Type": "Minimize"},
            "metric_definitions": "gan-exampel",
        },
    )
    assert response.status_code == 422
    assert "no known preset 'gan-exampel'; known: gan-example," in response.json()["message"]


def test_the_dry_run_takes_a_preset_by_name(api):
    response = api.post("/v1/parse", json={"metric_definitions": "gan-example", "log": GAN_LINE})
    assert response.status_code == 200
    assert {(p["metric_name"], p["value"]) for p in response.json()["points"]} >= {
        ("Loss", 16.020744),
        ("GAN_loss", 0.138318),
    }
