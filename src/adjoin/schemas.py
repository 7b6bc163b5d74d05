"""The schemas of the files adjoin reads back (placements, profiles), checked with jsonschema.

A file that does not match is refused with a UsageError naming the file, the key path of the
first problem (``tree.nodes[3].F``), what is wrong and what to do.  docs/profile-format.md and
docs/checkpointing.md describe the files; these schemas are their exact form.
"""
import difflib

import jsonschema

from .errors import UsageError

SITE_ID = r"^[^\s/#]+/[^\s/#]+#[0-9]+$"      # caller/callee#k, caller/fragment#k, caller/loop#k

PLACEMENT = {
    "type": "object",
    "properties": {
        "format": {"type": "integer"},
        "sites": {"type": "object",
                  "propertyNames": {"pattern": SITE_ID},
                  "additionalProperties": {"enum": ["checkpoint", "nocheckpoint"]}},
        "loops": {"type": "object",
                  "propertyNames": {"pattern": SITE_ID},
                  "additionalProperties": {
                      "type": "object",
                      "properties": {"snapshots": {"type": "integer", "minimum": 0},
                                     "disk": {"type": "integer", "minimum": 0}},
                      "required": ["snapshots"], "additionalProperties": False}},
    },
    "required": ["sites"],
    "additionalProperties": False,
}

_BYTES = {"type": "integer", "minimum": 0}
_SECONDS = {"type": "number"}


def _node(version):
    """A checkpoint tree node of a profile file of ``version``."""
    fields = {"site": {"type": "string"}, "function": {"type": "string"},
              "measured_joint": {"type": "boolean"}, "S": _BYTES, "Tj": _BYTES, "Ts": _BYTES,
              "P": _SECONDS, "W": _SECONDS, "R": _SECONDS, "F": _SECONDS, "B": _SECONDS,
              "P_measured": {"type": "boolean"}}
    if version >= 3:
        fields["L"] = _SECONDS
    child = ({"$ref": "#/$defs/node"} if version == 1 else {"type": "integer", "minimum": 0})
    fields["children"] = {"type": "array", "items": {
        "type": "array", "prefixItems": [_BYTES, {"type": "integer", "minimum": 1}, child],
        "minItems": 3, "maxItems": 3}}
    return {"type": "object", "properties": fields, "required": sorted(fields),
            "additionalProperties": False}


def profile_schema(version):
    """The schema of a profile file of ``version`` (1 to 6)."""
    site = {"id": {"type": "string", "pattern": SITE_ID}, "callee": {"type": "string"},
            "file": {"type": "string"}, "line": _BYTES, "instances": _BYTES,
            "checkpointed": {"type": "boolean"}, "delta_t": _SECONDS,
            "delta_pm": {"type": "integer"}, "delta_pm_turn": {"type": "integer"}}
    required = sorted(site)
    if version >= 4:
        site["file_given"] = {"type": "string"}
    top = {
        "format": {"const": "adjoin-profile"},
        "version": {"const": version},
        "head": {"type": "string", "minLength": 1},
        "wrt": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "peak_tape_bytes": _BYTES,
        "seconds": {"type": "number", "minimum": 0},
        "primal_ratio": {"type": "number", "minimum": 0},
        "profiled_placement": {"type": "object",
                               "properties": {"nocheckpoint": {"type": "array",
                                                               "items": {"type": "string"}}},
                               "required": ["nocheckpoint"], "additionalProperties": False},
        "sites": {"type": "array", "items": {"type": "object", "properties": site,
                                             "required": required, "additionalProperties": False}},
        "tree": ({"$ref": "#/$defs/node"} if version == 1 else
                 {"type": "object", "properties": {"root": _BYTES,
                                                   "nodes": {"type": "array", "minItems": 1,
                                                             "items": {"$ref": "#/$defs/node"}}},
                  "required": ["root", "nodes"], "additionalProperties": False}),
    }
    if version >= 4:
        top["sources"] = {"type": "array", "items": {
            "type": "object", "properties": {"path": {"type": "string"}, "given": {"type": "string"}},
            "required": ["path", "given"], "additionalProperties": False}}
    if version >= 5:
        top["traffic"] = {"type": "object", "properties": {
            "value_bytes": _BYTES, "depths": {"type": "array", "items": _BYTES},
            "extra": {"type": "array", "items": _SECONDS}, "seconds": _SECONDS, "scale": _SECONDS},
            "required": ["value_bytes", "depths", "extra", "seconds"], "additionalProperties": False}
    if version >= 6:
        top["loops"] = {"type": "object", "additionalProperties": {
            "type": "object", "properties": {"snapshots": _BYTES, "disk": _BYTES, "disk_write": _SECONDS,
                                             "disk_read": _SECONDS, "disk_bytes": _BYTES},
            "required": ["snapshots", "disk", "disk_write", "disk_read", "disk_bytes"],
            "additionalProperties": False}}
    required = [key for key in top if key not in ("primal_ratio",)]
    return {"type": "object", "properties": top, "required": required,
            "additionalProperties": False, "$defs": {"node": _node(version)}}


def key_path(parts):
    """``tree.nodes[3].F`` from jsonschema's path ``['tree', 'nodes', 3, 'F']``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.isidentifier():
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


_TYPES = {"object": "a table", "array": "a list", "string": "a string", "integer": "a whole number",
          "number": "a number", "boolean": "true or false"}


def kind(value):
    """What a decoded JSON/TOML value is, in the words of the messages."""
    if isinstance(value, bool):
        return "a boolean"
    for name, types in (("a table", dict), ("a list", list), ("a string", str), ("a whole number", int),
                        ("a number", float)):
        if isinstance(value, types):
            return name
    return type(value).__name__


def _shown_value(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def problem(error):
    """One line for a jsonschema ValidationError: the key path, then what is wrong."""
    path = key_path(error.absolute_path)
    where = path or "the file"
    value, rule, expected = error.instance, error.validator, error.validator_value
    if rule == "type":
        wanted = " or ".join(_TYPES.get(t, t) for t in ([expected] if isinstance(expected, str) else expected))
        return f"{where} is {kind(value)} ({_shown_value(value)}), not {wanted}"
    if rule == "required":
        missing = next((key for key in expected if key not in value), expected[0])
        return f"{path + ': ' if path else ''}missing key {missing!r}"
    if rule == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        unknown = sorted(key for key in value if key not in known)
        key = unknown[0] if unknown else "?"
        close = difflib.get_close_matches(key, sorted(known), n=1)
        return (f"{(path + '.') if path else ''}{key}: unknown key"
                + (f" (did you mean {close[0]!r}?)" if close else ""))
    if rule in ("enum", "const"):
        choices = expected if rule == "enum" else [expected]
        return f"{where} is {_shown_value(value)}, not {' or '.join(map(repr, choices))}"
    if rule == "pattern" or (rule == "propertyNames"):
        return f"{where}: {_shown_value(value)} is not a site id (they look like caller/callee#k)"
    if rule in ("minimum", "exclusiveMinimum"):
        return f"{where} is {_shown_value(value)}, below its least value {expected}"
    if rule in ("minItems", "maxItems", "minLength"):
        return f"{where}: {_shown_value(value)} has the wrong length ({error.message})"
    return f"{where}: {error.message}"


def validate(data, schema, lead, hint):
    """Raises UsageError(f"{lead}: {problem}; {hint}") unless ``data`` matches ``schema``."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(data))
    if errors:
        # the shallowest problem first, and there an unknown key first: a misspelt key explains
        # the missing one and the errors below it
        error = min(errors, key=lambda e: (len(e.absolute_path), _RANK.get(e.validator, len(_RANK))))
        raise UsageError(f"{lead}: {problem(error)}; {hint}")


_RANK = {"additionalProperties": 0, "required": 1, "type": 2}

