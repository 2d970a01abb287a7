"""Where hyperparameters come from, the SageMaker way, merged into one mapping.

In order, later sources overriding earlier ones:

1. `$SM_INPUT_CONFIG_DIR/hyperparameters.json` (default dir `/opt/ml/input/config`),
   which SageMaker writes with every value as a string; a missing file is fine.
2. `SM_HPS`, a JSON object (the SageMaker training toolkit's environment variable).
3. Command-line flags, `--name value` or `--name=value`.

String values are decoded as JSON where they parse, as the SageMaker training toolkit
does: "0.01" -> 0.01, "[0.25, 1]" -> [0.25, 1], while "adam" stays a string.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from trainer.errors import ConfigError

__all__ = ["DEFAULT_CONFIG_DIR", "decode_value", "read_hyperparameters"]

DEFAULT_CONFIG_DIR = "/opt/ml/input/config"


def read_hyperparameters(argv: Sequence[str], environ: Mapping[str, str]) -> dict[str, object]:
    """Merge the three sources into one mapping of decoded values, unchecked.

    Args:
        argv: command-line arguments without the program name.
        environ: the environment (`SM_INPUT_CONFIG_DIR`, `SM_HPS`).

    Returns:
        name -> value; later sources override earlier ones name by name.

    Raises:
        ConfigError: the file or SM_HPS is not a JSON object, or a flag is malformed.
    """
    config_dir = Path(environ.get("SM_INPUT_CONFIG_DIR", DEFAULT_CONFIG_DIR))
    merged: dict[str, object] = {}
    for source in (
        _from_file(config_dir / "hyperparameters.json"),
        _from_json_object("SM_HPS", environ.get("SM_HPS")),
        _from_flags(argv),
    ):
        merged.update(source)
    return merged


def decode_value(value: object) -> object:
    """Decode a string as JSON if it parses; leave anything else as it is."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _from_file(path: Path) -> dict[str, object]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    return _from_json_object(str(path), text)


def _from_json_object(origin: str, text: str | None) -> dict[str, object]:
    if text is None:
        return {}
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{origin} is not valid JSON: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"{origin} must hold a JSON object, not {type(loaded).__name__}")
    return {str(name): decode_value(value) for name, value in loaded.items()}


def _from_flags(argv: Sequence[str]) -> dict[str, object]:
    flags: dict[str, object] = {}
    tokens = iter(argv)
    for token in tokens:
        name, equals, inline = token.removeprefix("--").partition("=")
        if not token.startswith("--") or not name:
            raise ConfigError(
                f"unexpected argument {token!r}; give hyperparameters as --name value"
            )
        # Without "=", the next token is the value even if it starts with "-":
        # `--eta_min -1` must reach the range check, not pass for a flag.
        value = inline if equals else next(tokens, None)
        if value is None:
            raise ConfigError(f"flag --{name} needs a value")
        flags[name] = decode_value(value)
    return flags
