"""compare.json: the one function that writes a run and the one that reads it back, and its JSON Schema.

pydantic reads and writes the stdlib dataclasses of model.py: the schema is generated from the same
classes the code uses, so the published file, the writer and the reader cannot drift apart.

One part is written shorter than the model holds it: an image's package inventory, two thirds of a
schema-1 file, where each package took six lines. From schema 2 it is one line a package,
"kind name version", grouped by where it came from (the base image's layers, the image's own, unknown);
the model's list is sorted and unique, so reading it back gives the very same list. Files of schema 1
still read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pydantic

from imagelab.errors import ConfigError
from imagelab.report.model import SCHEMA, Run

_RUN = pydantic.TypeAdapter(Run)
SCHEMA_ID = "https://imagelab.invalid/compare.schema.json"  # a name, not a place: nothing fetches it
#: The schemas this reader takes: 1 wrote the inventory as one object a package.
READS = (1, SCHEMA)
#: in_base -> the inventory's group in the file.
GROUPS = {True: "base", False: "own", None: "unknown"}
#: One package of a schema-2 inventory: its kind, name and version, none of which holds a space.
PACKAGE_LINE = r"^\S+ \S+ \S+$"


def dumps(run: Run) -> str:
    """compare.json's text: fields in the model's order, two-space indent, a final newline."""
    data = _RUN.dump_python(run, mode="json")
    for image in data["images"]:
        if image.get("exposure"):
            image["exposure"]["inventory"] = _grouped(image["exposure"]["inventory"])
    return json.dumps(data, indent=2) + "\n"


def expanded(data: dict) -> dict:
    """compare.json's data (any schema this reads) in the model's own shape: the inventory as one object a
    package. For whoever reads the file as plain JSON."""
    for image in data.get("images") or ():
        exposure = image.get("exposure") if isinstance(image, dict) else None
        if isinstance(exposure, dict) and isinstance(exposure.get("inventory"), dict):
            exposure["inventory"] = _listed(exposure["inventory"])
    return data


def _grouped(inventory: list[dict]) -> dict[str, list]:
    """The model's inventory as the file holds it. A package whose name or version has a space (none
    seen so far) stays an object: it could not be read back from a line."""
    found: dict[str, list] = {}
    for ref in inventory:
        fields = (ref["kind"], ref["name"], ref["version"])
        line = " ".join(fields)
        fits = all(field and not any(c.isspace() for c in field) for field in fields)
        found.setdefault(GROUPS[ref["in_base"]], []).append(line if fits else ref)
    return found


def _listed(groups: dict[str, list]) -> list[dict]:
    in_base = {group: flag for flag, group in GROUPS.items()}
    found = []
    for group, entries in groups.items():
        for entry in entries:
            if isinstance(entry, str):
                kind, name, version = entry.split(" ")
                entry = {"kind": kind, "name": name, "version": version, "in_base": in_base[group]}
            found.append(entry)
    return sorted(found, key=lambda ref: (ref["kind"], ref["name"], ref["version"]))


def loads(text: str, source: str = "compare.json") -> Run:
    """A run from compare.json's text; a file of another schema or shape is one line naming what is wrong."""
    hint = "write one with `nox -s compare` (or `--update-baseline`)"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source} is not valid JSON: {exc}", hint=hint) from exc
    found = data.get("schema") if isinstance(data, dict) else type(data).__name__
    if found not in READS:
        raise ConfigError(
            f"{source} is not an imagelab compare report of schema {' or '.join(map(str, READS))} "
            f"(found schema {found!r})",
            hint=hint,
        )
    try:
        return _RUN.validate_python(expanded(data) | {"schema": SCHEMA})  # read, it is the model's
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
    package = {"anyOf": [{"type": "string", "pattern": PACKAGE_LINE}, {"$ref": "#/$defs/PackageRef"}]}
    schema["$defs"]["ExposureFacts"]["properties"]["inventory"] = {
        "type": "object",
        "description": "the packages by where they came from, one 'kind name version' line each",
        "properties": {group: {"type": "array", "items": package} for group in GROUPS.values()},
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": f"imagelab compare report, schema {SCHEMA}",
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2) + "\n"
