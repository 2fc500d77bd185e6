"""Flow metadata (source `.flow-meta.xml` or a Metadata API deploy's Flow) loaded into a model.

Elements the runtime executes are in SUPPORTED. Every other element kind Salesforce defines
(screens, action calls, waits, orchestration stages, …) is listed in `Flow.unsupported` by name
when the flow loads, and the interpreter raises NOT_IMPLEMENTED naming it if execution reaches
one.
Formulas are parsed at load time, so a formula that does not parse fails the load; a call of a
function the runtime does not run fails the interview that evaluates it (formula.py).
The XML is read once, at load, into a tree of `Node`s (tag, text, children by tag), which
program.py compiles into closures the first time the flow runs.
"""

import functools
from dataclasses import dataclass, field

from lxml import etree

from localorg.errors import SalesforceError
from localorg.flow import formula

NS = "http://soap.sforce.com/2006/04/metadata"
Q = f"{{{NS}}}"

SUPPORTED = {
    "assignments", "decisions", "loops", "recordLookups", "recordCreates", "recordUpdates",
    "recordDeletes", "subflows", "customErrors",
}
# Flow element kinds (things a connector can reach) that this runtime does not execute.
UNSUPPORTED = {
    "actionCalls", "apexPluginCalls", "collectionProcessors", "experiments", "orchestratedStages",
    "recordRollbacks", "screens", "steps", "transforms", "waits", "exitRules",
}
RESOURCES = {"variables", "formulas", "constants", "textTemplates", "choices",
             "dynamicChoiceSets", "stages"}


class FlowLoadError(SalesforceError):
    def __init__(self, message):
        super().__init__("INVALID_FLOW", message)


class Node:
    """One XML element of a loaded flow: `tag` (local name in the metadata namespace, else
    `{ns}name`), `text`, and its element children in order (iterating a Node yields them)."""

    __slots__ = ("tag", "text", "kids", "by_tag", "texts")

    def __init__(self, el):
        qname = etree.QName(el)
        self.tag = qname.localname if qname.namespace == NS else el.tag
        self.text = el.text
        self.kids = [Node(k) for k in el if isinstance(k.tag, str)]
        self.by_tag = {}
        self.texts = {}  # tag -> text of the first child with that tag
        for kid in self.kids:
            self.by_tag.setdefault(kid.tag, []).append(kid)
            self.texts.setdefault(kid.tag, kid.text)

    def __iter__(self):
        return iter(self.kids)

    def __len__(self):
        return len(self.kids)

    def __bool__(self):
        return True

    def iter(self, tag):
        """This node and its descendants called `tag`, in document order."""
        if self.tag == tag:
            yield self
        for kid in self.kids:
            yield from kid.iter(tag)


_NONE = ()


def child(node, tag):
    if node is None:
        return None
    found = node.by_tag.get(tag)
    return found[0] if found else None


def text(node, tag, default=None):
    value = node.texts.get(tag) if node is not None else None
    return default if value is None else value


def children(node, tag):
    return node.by_tag.get(tag, _NONE) if node is not None else []


def connector_target(node, tag="connector"):
    return text(child(node, tag), "targetReference")


@dataclass
class Variable:
    name: str
    data_type: str
    is_collection: bool = False
    is_input: bool = False
    is_output: bool = False
    object_type: str | None = None
    value: object = None  # the <value> element, or None


@dataclass
class Element:
    kind: str
    name: str
    node: Node


@dataclass
class Flow:
    name: str
    label: str
    process_type: str
    api_version: str | None
    status: str | None
    start: str | None  # first element name
    trigger: dict | None  # record-triggered start: object, triggerType, recordTriggerType, …
    start_node: object
    elements: dict = field(default_factory=dict)
    variables: dict = field(default_factory=dict)
    formulas: dict = field(default_factory=dict)  # name -> (dataType, parsed formula, scale)
    constants: dict = field(default_factory=dict)  # name -> value element
    templates: dict = field(default_factory=dict)  # name -> text
    unsupported: list = field(default_factory=list)  # ["screens:Welcome", …]
    async_start: str | None = None  # first element of the AsyncAfterCommit path, if any
    program: object = None  # the compiled closures (program.py), made when it first runs

    def variable(self, name: str) -> Variable | None:
        """The variable called `name`, ignoring case as flow references do; None if none."""
        return self.resource(name.lower(), "variable")

    def resource(self, low: str, kind: str):
        """The variable, formula name, constant or template name whose lower-cased name is
        `low` (the first one declared when several differ only by case), or None."""
        index = self.__dict__.get("_index")
        if index is None:
            index = self.__dict__["_index"] = {}
            for key, names in (("variable", self.variables), ("formula", self.formulas),
                               ("constant", self.constants), ("template", self.templates)):
                table = index[key] = {}
                for item in names:
                    table.setdefault(item.lower(), names[item] if key == "variable" else item)
        return index[kind].get(low)


def load(xml: bytes, name: str) -> Flow:
    """Parse Flow XML; raise FlowLoadError naming the flow and the problem."""
    try:
        root = etree.fromstring(xml) if isinstance(xml, bytes | str) else xml
    except etree.XMLSyntaxError as exc:
        raise FlowLoadError(f"Flow {name}: not well-formed XML: {exc}") from None
    if etree.QName(root).localname != "Flow" or etree.QName(root).namespace != NS:
        raise FlowLoadError(f"Flow {name}: root element must be <Flow xmlns=\"{NS}\">")
    root = Node(root)
    start_node = child(root, "start")
    trigger = None
    if start_node is not None and text(start_node, "triggerType"):
        trigger = {
            "object": text(start_node, "object"),
            "triggerType": text(start_node, "triggerType"),
            "recordTriggerType": text(start_node, "recordTriggerType"),
            "filterLogic": text(start_node, "filterLogic"),
            "filterFormula": text(start_node, "filterFormula"),
            "order": int(text(root, "triggerOrder", "0") or 0),
        }
    if text(root, "processType") == "Workflow":
        # A Process Builder process: its object is in the root processMetadataValues.
        meta = {text(m, "name"): text(child(m, "value"), "stringValue")
                for m in children(root, "processMetadataValues")}
        trigger = {"object": meta.get("ObjectType"), "triggerType": "ProcessBuilder",
                   "recordTriggerType": "CreateAndUpdate", "filterLogic": None,
                   "filterFormula": None, "order": 0}
    flow = Flow(
        name=name,
        label=text(root, "label", name),
        process_type=text(root, "processType", "AutoLaunchedFlow"),
        api_version=text(root, "apiVersion"),
        status=text(root, "status"),
        start=connector_target(start_node) if start_node is not None
        else text(root, "startElementReference"),
        trigger=trigger,
        start_node=start_node,
    )
    if trigger and trigger["triggerType"] == "ProcessBuilder":
        flow.unsupported.append(f"processType:Workflow (Process Builder on {trigger['object']})")
    for path in children(start_node, "scheduledPaths"):
        if text(path, "pathType") == "AsyncAfterCommit":
            flow.async_start = connector_target(path)
        else:  # a time-based scheduled path (offset from the trigger or a record field)
            flow.unsupported.append(f"start:scheduledPaths:{text(path, 'name', '?')}")
    for node in root:
        kind = node.tag
        el_name = text(node, "name")
        if kind in SUPPORTED or kind in UNSUPPORTED:
            flow.elements[el_name] = Element(kind, el_name, node)
            if kind in UNSUPPORTED:
                flow.unsupported.append(f"{kind}:{el_name}")
        elif kind == "variables":
            flow.variables[el_name] = Variable(
                el_name, text(node, "dataType", "String"),
                text(node, "isCollection") == "true", text(node, "isInput") == "true",
                text(node, "isOutput") == "true", text(node, "objectType"),
                child(node, "value"))
        elif kind == "formulas":
            try:
                # arity unchecked: the deploy refuses it; a flow stored before fails running it
                parsed = formula.parse(text(node, "expression", ""), check_arity=False)
            except formula.FormulaError as exc:
                raise FlowLoadError(f"Flow {name}: formula {el_name}: {exc.message}") from None
            flow.formulas[el_name] = (text(node, "dataType", "String"), parsed,
                                      text(node, "scale"))
        elif kind == "constants":
            flow.constants[el_name] = child(node, "value")
        elif kind == "textTemplates":
            flow.templates[el_name] = text(node, "text", "")
        elif kind in ("choices", "dynamicChoiceSets", "stages"):
            flow.unsupported.append(f"{kind}:{el_name}")
    for el in flow.elements.values():
        for ref in el.node.iter("targetReference"):  # connectors, incl. decision rules
            if ref.text not in flow.elements:
                raise FlowLoadError(f"Flow {name}: element {el.name} connects to unknown "
                                    f"element {ref.text}")
    for target in (flow.start, flow.async_start):
        if target and target not in flow.elements:
            raise FlowLoadError(f"Flow {name}: start connects to unknown element {target}")
    return flow


def load_cached(cache: dict, xml: bytes, name: str) -> Flow:
    """`load`, memoised in `cache` by name and XML, so each deployed version is parsed once.
    The same name and XML in another org of this process (a test's or a benchmark's fresh
    org) gives the same `Flow`, so its program is generated once: a Flow and its program
    hold nothing of an org (schema lookups happen as it runs)."""
    key = (name, hash(xml))
    if key not in cache:
        cache[key] = load_shared(xml, name)
    return cache[key]


@functools.lru_cache(maxsize=256)
def load_shared(xml: bytes, name: str) -> Flow:
    return load(xml, name)
