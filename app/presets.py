"""Metric-definition presets: JSON files in SageMaker's MetricDefinitions shape."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.errors import InvalidMetricDefinition, PresetNotFound
from app.parsing import MetricDefinition, compile_definitions

__all__ = ["DEFAULT_PRESETS_DIR", "Preset", "Presets", "load_presets"]

# Shipped inside the package (the checkout's top-level metric_defs/ is a link to it), so
# an installed service finds its presets with no path setting.
DEFAULT_PRESETS_DIR = Path(__file__).resolve().parent / "metric_defs"


@dataclass(frozen=True)
class Preset:
    name: str
    definitions: tuple[MetricDefinition, ...]


class Presets:
    """The presets of one folder, validated when loaded; read-only afterwards."""

    def __init__(self, presets: Mapping[str, Preset]) -> None:
        self._presets = dict(sorted(presets.items()))

    def all(self) -> list[Preset]:
        return list(self._presets.values())

    def get(self, name: str) -> Preset:
        """Raises: PresetNotFound."""
        preset = self._presets.get(name)
        if preset is None:
            raise PresetNotFound(f"no preset named {name!r}; known: {self._known()}", preset=name)
        return preset

    def definitions(self, name: str) -> tuple[MetricDefinition, ...]:
        """A preset's definitions, for a request that names it.

        Raises: InvalidMetricDefinition for an unknown name (the request is at fault).
        """
        preset = self._presets.get(name)
        if preset is None:
            raise InvalidMetricDefinition(
                f"metric_definitions names no known preset {name!r}; known: {self._known()}",
                preset=name,
            )
        return preset.definitions

    def _known(self) -> str:
        return ", ".join(self._presets) or "none"


def load_presets(directory: Path) -> Presets:
    """Read every `*.json` in `directory` (none if it does not exist).

    Raises:
        ValueError: a file is not a list of {Name, Regex} that compiles; the service
            does not start with a broken preset.
    """
    presets = {}
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            raw = json.loads(path.read_text())
            definitions = tuple(MetricDefinition(d["Name"], d["Regex"]) for d in raw)
            compile_definitions(definitions)
        except (ValueError, KeyError, TypeError, InvalidMetricDefinition) as exc:
            raise ValueError(f"preset {path} is not valid MetricDefinitions: {exc}") from exc
        presets[path.stem] = Preset(path.stem, definitions)
    return Presets(presets)
