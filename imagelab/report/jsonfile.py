"""compare.json: the one function that writes a run and the one that reads it back, and its JSON Schema.

pydantic reads and writes the stdlib dataclasses of model.py: the schema is generated from the same
classes the code uses, so the published file, the writer and the reader cannot drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path

import pydantic

from imagelab.errors import ConfigError
from imagelab.report.model import SCHEMA, Run

_RUN = pydantic.TypeAdapter(Run)
SCHEMA_ID = "https://imagelab.invalid/compare.schema.json"  # a name, not a place: nothing fetches it


def dumps(run: Run) -> str:
    """compare.json's text: fields in the model's order, two-space indent, a final newline."""
    return json.dumps(_RUN.dump_python(run, mode="json"), indent=2) + "\n"


def loads(text: str, source: str = "compare.json") -> Run:
    """A run from compare.json's text; a file of another schema or shape is one line naming what is wrong."""
    hint = "write one with `nox -s compare` (or `--update-baseline`)"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source} is not valid JSON: {exc}", hint=hint) from exc
    found = data.get("schema") if isinstance(data, dict) else type(data).__name__
    if found != SCHEMA:
        raise ConfigError(
            f"{source} is not an imagelab compare report of schema {SCHEMA} (found schema {found!r})",
            hint=hint,
        )
    try:
        return _RUN.validate_python(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{source}: {where}: {first['msg']}", hint=hint) from exc


def read(path: Path) -> Run:
    try:
        text = path.read_text()
    except FileNotFoundError as exc:
        raise ConfigError(f"{path} does not exist", hint="write one with `nox -s compare`") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    return loads(text, str(path))


def json_schema() -> dict:
    """The JSON Schema of compare.json, as published in results/compare.schema.json."""
    schema = _RUN.json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": f"imagelab compare report, schema {SCHEMA}",
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2) + "\n"
