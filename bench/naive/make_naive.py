"""Generate the naive (non-bulkified) variant of the participant subflow for the benchmark.

Takes flows/Create_Event_Participant_Template.flow-meta.xml and rewrites every Get Records that
matches a whole email collection with `In` into a Loop over that collection with one Get Records
per email (EqualTo) inside it, collecting the results into the original output collection. The
rest of the flow is untouched, so the two variants differ only in that anti-pattern.

The benchmark and the tests generate it in memory, so it always matches the current flow. To
look at it: .venv/bin/python bench/naive/make_naive.py [OUTPUT.flow-meta.xml]   (default stdout)
"""

import copy
import sys
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "flows" / "Create_Event_Participant_Template.flow-meta.xml"
NS = "http://soap.sforce.com/2006/04/metadata"
Q = f"{{{NS}}}"


def el(tag, text=None, *kids):
    node = etree.Element(Q + tag)
    node.text = text
    node.extend(kids)
    return node


def connector(tag, target):
    return el(tag, None, el("targetReference", target))


def variable(name, dtype, collection=False, object_type=None):
    kids = [
        el("name", name),
        el("dataType", dtype),
        el("isCollection", str(collection).lower()),
        el("isInput", "false"),
        el("isOutput", "false"),
    ]
    if object_type:
        kids.append(el("objectType", object_type))
    return el("variables", None, *kids)


def debulkify(root):
    """Rewrite each `In` Get Records as a loop of per-value Get Records; return their names."""
    variables = {v.findtext(Q + "name"): v for v in root.findall(Q + "variables")}
    changed = []
    for get in root.findall(Q + "recordLookups"):
        in_filter = next(
            (f for f in get.findall(Q + "filters") if f.findtext(Q + "operator") == "In"), None
        )
        if in_filter is None:
            continue
        name = get.findtext(Q + "name")
        per_item = f"{name}_Per_Email"
        item_var, found_var = f"naiveItem_{name}", f"naiveFound_{name}"
        out_var = get.findtext(Q + "outputReference")
        object_type = variables[out_var].findtext(Q + "objectType")
        collection = in_filter.find(Q + "value").findtext(Q + "elementReference")
        after = get.find(Q + "connector").findtext(Q + "targetReference")

        get.find(Q + "name").text = per_item
        in_filter.find(Q + "operator").text = "EqualTo"
        in_filter.find(Q + "value").find(Q + "elementReference").text = item_var
        get.find(Q + "outputReference").text = found_var
        get.find(Q + "connector").find(Q + "targetReference").text = f"Collect_{name}"

        loop = el(
            "loops",
            None,
            el("name", name),
            el("label", f"{name} (naive loop)"),
            el("locationX", "0"),
            el("locationY", "0"),
            el("assignNextValueToReference", item_var),
            el("collectionReference", collection),
            el("iterationOrder", "Asc"),
            connector("nextValueConnector", per_item),
            connector("noMoreValuesConnector", after),
        )
        collect = el(
            "assignments",
            None,
            el("name", f"Collect_{name}"),
            el("label", f"Collect {name}"),
            el("locationX", "0"),
            el("locationY", "0"),
            el(
                "assignmentItems",
                None,
                el("assignToReference", out_var),
                el("operator", "Add"),
                el("value", None, el("elementReference", found_var)),
            ),
            connector("connector", name),
        )
        root.append(loop)
        root.append(collect)
        root.append(variable(item_var, "String"))
        root.append(variable(found_var, "SObject", True, object_type))
        changed.append(name)
    # Metadata API order: elements grouped by kind, alphabetically by kind.
    kids = sorted(
        (k for k in root if isinstance(k.tag, str)), key=lambda k: etree.QName(k).localname
    )
    for k in list(root):
        root.remove(k)
    root.extend(kids)
    status = root.find(Q + "status")
    status.text = "Active"
    return changed


def generate() -> tuple:
    """(naive flow XML bytes, names of the de-bulkified Get Records) from the project's flow."""
    root = copy.deepcopy(etree.parse(str(SOURCE)).getroot())
    changed = debulkify(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), changed


def main(argv) -> int:
    xml, changed = generate()
    if not changed:
        print(f"{SOURCE} has no Get Records with an In filter to de-bulkify", file=sys.stderr)
        return 1
    if argv:
        Path(argv[0]).write_bytes(xml)
    else:
        sys.stdout.write(xml.decode())
    print(f"per-email Get Records in {', '.join(changed)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
