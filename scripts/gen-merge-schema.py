#!/usr/bin/env python3
"""Generates crates/rustomize/src/tables/merge_keys.rs, the built-in merge schema.

Usage: scripts/gen-merge-schema.py SWAGGER > crates/rustomize/src/tables/merge_keys.rs

SWAGGER is the Kubernetes OpenAPI v2 document kustomize embeds (v1.21.2): either
`swagger.json` (kubernetes `api/openapi-spec/swagger.json`) or the protobuf form
kustomize ships (`kyaml/openapi/kubernetesapi/v1_21_2/swagger.pb`), which this
script decodes itself (no protobuf library needed).

Only what strategic merge needs is kept: every definition that has, or leads to,
a field carrying `x-kubernetes-patch-strategy`, and the group/version/kind of
every top-level definition that is kept.
"""
import json
import sys


# --- a minimal protobuf reader for the gnostic OpenAPIv2 `Document` message ----

def _varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _fields(buf):
    """Yields (field number, wire type, value) of one message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, pos = _varint(buf, pos)
        elif wire == 1:
            val, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            val, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            val, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        yield num, wire, val


def _named(buf):
    name, value = "", b""
    for num, _, val in _fields(buf):
        if num == 1:
            name = val.decode()
        elif num == 2:
            value = val
    return name, value


def _any_yaml(buf):
    # Any { google.protobuf.Any value = 1; string yaml = 2; }
    for num, _, val in _fields(buf):
        if num == 2:
            import yaml  # PyYAML; only needed for the .pb form
            return yaml.safe_load(val.decode())
    return None


def _schema(buf):
    """Schema message -> the JSON-like dict swagger.json would hold (subset)."""
    out = {}
    for num, _, val in _fields(buf):
        if num == 1:
            out["$ref"] = val.decode()
        elif num == 21:  # AdditionalPropertiesItem { Schema schema = 1; bool boolean = 2; }
            for n2, _, v2 in _fields(val):
                if n2 == 1:
                    out["additionalProperties"] = _schema(v2)
        elif num == 22:  # TypeItem { repeated string value = 1; }
            out["type"] = [v2.decode() for n2, _, v2 in _fields(val) if n2 == 1]
        elif num == 23:  # ItemsItem { repeated Schema schema = 1; }
            items = [_schema(v2) for n2, _, v2 in _fields(val) if n2 == 1]
            if items:
                out["items"] = items[0]
        elif num == 25:  # Properties { repeated NamedSchema additional_properties = 1; }
            props = out.setdefault("properties", {})
            for n2, _, v2 in _fields(val):
                if n2 == 1:
                    name, sch = _named(v2)
                    props[name] = _schema(sch)
        elif num == 31:  # repeated NamedAny vendor_extension
            name, anybuf = _named(val)
            out[name] = _any_yaml(anybuf)
    return out


def load_pb(data):
    definitions = {}
    for num, _, val in _fields(data):
        if num == 9:  # Definitions { repeated NamedSchema additional_properties = 1; }
            for n2, _, v2 in _fields(val):
                if n2 == 1:
                    name, sch = _named(v2)
                    definitions[name] = _schema(sch)
    return {"definitions": definitions}


# --- the table ---------------------------------------------------------------

REF_PREFIX = "#/definitions/"


def types(s):
    t = s.get("type")
    if isinstance(t, str):
        return [t]
    return t or []


def shape(s):
    """The shape of a field: '@Def', '[]<shape>', '{}<shape>' or '' (a leaf)."""
    ref = s.get("$ref")
    if ref:
        return "@" + ref[len(REF_PREFIX):] if ref.startswith(REF_PREFIX) else ""
    if types(s) == ["array"] and "items" in s:
        return "[]" + shape(s["items"])
    if isinstance(s.get("additionalProperties"), dict):
        return "{}" + shape(s["additionalProperties"])
    return ""


def strategy_and_keys(s):
    if s.get("$ref"):
        return "", []  # a reference replaces the whole field schema
    strategy = s.get("x-kubernetes-patch-strategy", "")
    if not strategy:
        return "", []
    keys = s.get("x-kubernetes-list-map-keys")
    if keys is None:
        mk = s.get("x-kubernetes-patch-merge-key")
        keys = [mk] if mk else []
    return strategy, list(keys)


def main():
    path = sys.argv[1]
    with open(path, "rb") as f:
        data = f.read()
    doc = json.loads(data) if path.endswith(".json") else load_pb(data)
    defs = doc["definitions"]

    rows = {}  # def -> [(field, strategy, keys, shape)]
    for name, d in defs.items():
        for field, s in sorted((d.get("properties") or {}).items()):
            strategy, keys = strategy_and_keys(s)
            rows.setdefault(name, []).append((field, strategy, keys, shape(s)))

    # Keep the definitions that have, or reach, a field with a patch strategy.
    keep = {n for n, fs in rows.items() if any(f[1] for f in fs)}
    changed = True
    while changed:
        changed = False
        for n, fs in rows.items():
            if n in keep:
                continue
            for f in fs:
                target = f[3].lstrip("[]{}")
                if target.startswith("@") and target[1:] in keep:
                    keep.add(n)
                    changed = True
                    break

    def useful(f):
        target = f[3].lstrip("[]{}")
        return f[1] or (target.startswith("@") and target[1:] in keep)

    gvks = []
    for name in sorted(keep):
        for ext in defs[name].get("x-kubernetes-group-version-kind") or []:
            group, version, kind = ext.get("group", ""), ext["version"], ext["kind"]
            api_version = group + "/" + version if group else version
            gvks.append((api_version, kind, name))

    out = []
    out.append("// @generated by scripts/gen-merge-schema.py from the Kubernetes v1.21.2")
    out.append("// OpenAPI document kustomize v5.5.0 embeds. Do not edit by hand.")
    out.append("")
    out.append("//! The built-in merge schema table (see [`crate::schema`]).")
    out.append("")
    out.append("/// `(apiVersion, kind, root definition)`.")
    out.append("pub(crate) static GVKS: &[(&str, &str, &str)] = &[")
    for g in sorted(gvks):
        out.append("    (%s, %s, %s)," % tuple(json.dumps(x) for x in g))
    out.append("];")
    out.append("")
    out.append("/// `(definition, field, patch strategy, merge keys, shape)`; the shape is")
    out.append("/// `@Def`, `[]shape` (list items), `{}shape` (map values) or empty.")
    out.append("pub(crate) static FIELDS: &[(&str, &str, &str, &[&str], &str)] = &[")
    for name in sorted(keep):
        for f in rows[name]:
            if useful(f):
                keys = "&[" + ", ".join(json.dumps(k) for k in f[2]) + "]"
                out.append("    (%s, %s, %s, %s, %s)," % (
                    json.dumps(name), json.dumps(f[0]), json.dumps(f[1]), keys, json.dumps(f[3])))
    out.append("];")
    print("\n".join(out))


if __name__ == "__main__":
    main()
