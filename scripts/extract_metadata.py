#!/usr/bin/env python3
"""Cut the identityContainer subset out of Microsoft Graph's published CSDL.

Reads a full `cleanMetadata.xml` from microsoftgraph/msgraph-metadata (v1.0 or beta) and writes
a self-contained CSDL document with only what Picket serves:

* in `microsoft.graph.security`: the types named in ROOT_TYPES, every type their structural
  properties and base types need (enums included), every type derived from a selected type,
  and the actions and functions bound to a selected type (with what their parameters and
  return types need); navigation properties whose target is not selected are dropped;
* in `microsoft.graph`: `entity`, the `security` entity type with only its `identities`
  navigation property, and an EntityContainer holding only the `security` singleton;
* the out-of-line `Annotations` whose target is a selected `microsoft.graph.security` type (or
  a member kept) or a selected operation, gathered at the end of that schema.

Element text, attributes and their order, namespaces and aliases are kept as in the source.
Standard library only. Usage:

    python3 scripts/extract_metadata.py SOURCE.xml OUTPUT.xml --label "TEXT"

`--label` is written into a comment at the top of the output (say which file and commit).
What was selected and dropped is printed to stderr.
"""

import argparse
import sys
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"
GRAPH = "microsoft.graph"
SECURITY = "microsoft.graph.security"

# What Picket serves under /security/identities (absent ones are skipped: sensorMigration and
# migrateSensorsResult exist on beta only).
ROOT_TYPES = [
    "identityContainer",
    "sensor",
    "sensorSettings",
    "networkAdapter",
    "healthIssue",
    "sensorCandidate",
    "sensorCandidateActivationConfiguration",
    "deploymentAccessKeyType",
    "sensorDeploymentPackage",
    "settingsContainer",
    "autoAuditingConfiguration",
    "identityAccounts",
    "account",
    "invokeActionResult",
    "sensorMigration",
    "migrateSensorsResult",
]

TYPE_KINDS = ("EntityType", "ComplexType", "EnumType")
OPERATION_KINDS = ("Action", "Function")


def tag(local):
    return "{%s}%s" % (EDM, local)


def local_name(element):
    return element.tag.rsplit("}", 1)[-1]


class Model:
    """Schemas by namespace, aliases, and every named element of the two namespaces we cut."""

    def __init__(self, root):
        self.schemas = {}
        self.aliases = {}
        for schema in root.iter(tag("Schema")):
            namespace = schema.get("Namespace")
            self.schemas[namespace] = schema
            if schema.get("Alias"):
                self.aliases[schema.get("Alias")] = namespace
        for needed in (GRAPH, SECURITY):
            if needed not in self.schemas:
                sys.exit("no Schema with Namespace=%r in the source" % needed)
        self.types = {}  # (namespace, name) -> element
        for namespace in (GRAPH, SECURITY):
            for child in self.schemas[namespace]:
                if local_name(child) in TYPE_KINDS:
                    self.types[(namespace, child.get("Name"))] = child
        self.annotations = list(root.iter(tag("Annotations")))

    def resolve(self, qualified):
        """`Collection(self.x)` / `graph.x` / `microsoft.graph.security.x` -> (namespace, name);
        None for Edm primitives."""
        if qualified.startswith("Collection(") and qualified.endswith(")"):
            qualified = qualified[len("Collection(") : -1]
        if qualified.startswith("Edm."):
            return None
        namespace, _, name = qualified.rpartition(".")
        return (self.aliases.get(namespace, namespace), name)


def structural_refs(model, element):
    """Types an element needs to be well-formed: base type, property types, parameter and
    return types (not navigation targets)."""
    refs = []
    if element.get("BaseType"):
        refs.append(model.resolve(element.get("BaseType")))
    for child in element:
        kind = local_name(child)
        if kind in ("Property", "Parameter", "ReturnType"):
            refs.append(model.resolve(child.get("Type")))
    return [r for r in refs if r is not None]


def select(model, log):
    selected = set()
    missing = []
    for name in ROOT_TYPES:
        if (SECURITY, name) in model.types:
            selected.add((SECURITY, name))
        else:
            missing.append(name)
    if missing:
        log("not in this source (skipped): %s" % ", ".join(missing))

    operations = []
    security_ops = [
        child
        for child in model.schemas[SECURITY]
        if local_name(child) in OPERATION_KINDS and child.get("IsBound") == "true"
    ]
    changed = True
    while changed:
        changed = False
        # Closure over structural references.
        for key in sorted(selected):
            for ref in structural_refs(model, model.types[key]):
                if ref[0] == SECURITY and ref not in selected:
                    if ref not in model.types:
                        sys.exit("%s.%s needs %s.%s, which the source lacks" % (key + ref))
                    selected.add(ref)
                    changed = True
                elif ref[0] not in (GRAPH, SECURITY):
                    sys.exit("%s.%s needs %s.%s from another namespace" % (key + ref))
                elif ref[0] == GRAPH and ref != (GRAPH, "entity"):
                    sys.exit("%s.%s needs %s.%s; only graph.entity is carried" % (key + ref))
        # Types derived from selected ones (an abstract type needs its concrete ones).
        for key, element in model.types.items():
            base = element.get("BaseType")
            if key[0] == SECURITY and key not in selected and base:
                if model.resolve(base) in selected:
                    selected.add(key)
                    changed = True
        # Operations bound to a selected type.
        for op in security_ops:
            if op in operations:
                continue
            params = [c for c in op if local_name(c) == "Parameter"]
            if params and model.resolve(params[0].get("Type")) in selected:
                operations.append(op)
                for ref in structural_refs(model, op):
                    if ref[0] == SECURITY and ref not in selected:
                        selected.add(ref)
                changed = True
    return selected, operations


def trimmed_copy(element, keep_child):
    copy = ET.Element(element.tag, dict(element.attrib))
    copy.text, copy.tail = element.text, None
    for child in element:
        if keep_child(child):
            copy.append(child)
    return copy


def build(model, log):
    selected, operations = select(model, log)
    dropped_navigation = set()

    def keep_member(owner_key):
        def keep(child):
            if local_name(child) != "NavigationProperty":
                return True
            target = model.resolve(child.get("Type"))
            if target in selected:
                return True
            dropped_navigation.add("%s/%s" % (owner_key[1], child.get("Name")))
            return False

        return keep

    # microsoft.graph: entity, security (identities only), the container's security singleton.
    graph_out = ET.Element(tag("Schema"), dict(model.schemas[GRAPH].attrib))
    kept_graph = set()
    for child in model.schemas[GRAPH]:
        kind, name = local_name(child), child.get("Name")
        if kind == "EntityType" and name == "entity":
            graph_out.append(child)
            kept_graph.add("entity")
        elif kind == "EntityType" and name == "security":
            graph_out.append(
                trimmed_copy(
                    child,
                    lambda c: local_name(c) == "NavigationProperty"
                    and c.get("Name") == "identities",
                )
            )
            kept_graph.add("security")
        elif kind == "EntityContainer":
            container = trimmed_copy(
                child,
                lambda c: local_name(c) == "Singleton" and c.get("Name") == "security",
            )
            for singleton in list(container):
                container.remove(singleton)
                container.append(
                    trimmed_copy(
                        singleton,
                        lambda c: local_name(c) == "NavigationPropertyBinding"
                        and c.get("Path", "").startswith("identities/"),
                    )
                )
            graph_out.append(container)
            kept_graph.add("container")
    for needed in ("entity", "security", "container"):
        if needed not in kept_graph:
            sys.exit("microsoft.graph.%s is missing from the source" % needed)

    # microsoft.graph.security: selected types and operations, in source order.
    security_out = ET.Element(tag("Schema"), dict(model.schemas[SECURITY].attrib))
    kept_members = {}  # type name -> names of its properties kept
    for child in model.schemas[SECURITY]:
        kind = local_name(child)
        if kind in TYPE_KINDS and (SECURITY, child.get("Name")) in selected:
            key = (SECURITY, child.get("Name"))
            copy = trimmed_copy(child, keep_member(key))
            security_out.append(copy)
            kept_members[child.get("Name")] = {c.get("Name") for c in copy}
        elif child in operations:
            security_out.append(child)

    # Out-of-line annotations on what was kept.
    operation_names = {op.get("Name") for op in operations}

    def wanted_target(target):
        path, _, member = target.partition("/")
        if "(" in path:  # a bound operation: name(binding type)
            name, _, params = path.partition("(")
            resolved = model.resolve(name)
            binding = params.rstrip(")").split(",")[0]
            return (
                resolved is not None
                and resolved[0] == SECURITY
                and resolved[1] in operation_names
                and model.resolve(binding) in selected
            )
        resolved = model.resolve(path)
        # Only the identityContainer subset's own: the microsoft.graph elements are scaffolding
        # (trimmed), and annotations on them describe what was cut.
        if resolved is None or resolved[0] != SECURITY or resolved not in selected:
            return False
        return member == "" or member in kept_members.get(resolved[1], ())

    annotations = [a for a in model.annotations if wanted_target(a.get("Target", ""))]
    for a in annotations:
        security_out.append(a)

    log("types: %s" % ", ".join(sorted(name for _, name in selected)))
    log("operations: %s" % ", ".join(op.get("Name") for op in operations))
    log("annotations: %s" % ", ".join(a.get("Target") for a in annotations))
    if dropped_navigation:
        log("navigation properties dropped: %s" % ", ".join(sorted(dropped_navigation)))
    return graph_out, security_out


def attributes(element):
    return "".join(
        ' %s="%s"' % (name, escape(value, {'"': "&quot;"}))
        for name, value in element.attrib.items()
    )


def write_element(out, element, depth, namespace_decl=""):
    indent = "  " * depth
    name = local_name(element)
    if element.tag.startswith("{%s}" % EDMX):
        name = "edmx:" + name
    head = "%s<%s%s%s" % (indent, name, attributes(element), namespace_decl)
    children = list(element)
    text = (element.text or "").strip()
    if not children and not text:
        out.append(head + " />")
    elif not children:
        out.append("%s>%s</%s>" % (head, escape(text), name))
    else:
        out.append(head + ">")
        for child in children:
            decl = ' xmlns="%s"' % EDM if local_name(child) == "Schema" else ""
            write_element(out, child, depth + 1, decl)
        out.append("%s</%s>" % (indent, name))


def serialize(schemas, label):
    root = ET.Element("{%s}Edmx" % EDMX, {"Version": "4.0"})
    services = ET.SubElement(root, "{%s}DataServices" % EDMX)
    services.extend(schemas)
    lines = ['<?xml version="1.0" encoding="utf-8"?>']
    if label:
        lines.append("<!-- %s -->" % label.replace("--", "- -"))
    write_element(lines, root, 0, ' xmlns:edmx="%s"' % EDMX)
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="a full cleanMetadata.xml")
    parser.add_argument("output", help="where to write the subset")
    parser.add_argument("--label", default="", help="provenance, written as a comment")
    args = parser.parse_args()

    def log(message):
        print("extract_metadata: %s" % message, file=sys.stderr)

    with open(args.source, "rb") as f:
        root = ET.parse(f).getroot()
    model = Model(root)
    text = serialize(build(model, log), args.label)
    ET.fromstring(text.encode("utf-8"))  # what we write parses
    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


if __name__ == "__main__":
    main()
