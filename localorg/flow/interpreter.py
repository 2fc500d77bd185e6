"""One flow interview as a Python generator that yields its data requests.

An `Interview` walks the flow's elements. Assignments, decisions, loops, formulas and custom errors
run in place; a data element (Get/Create/Update/Delete Records) yields a `Request` and waits for
the scheduler (`localorg.flow.scheduler`) to send back its result, so that the same element of
many interviews becomes one SOQL query or one DML statement. A subflow runs as a nested
interview through `yield from`, so its data elements are bulkified the same way. What runs is the
flow's compiled program (program.py); an interview holds only its state.

Semantics kept from Salesforce: Get Records filters compare text case-insensitively (they are
SOQL), decision conditions compare text case-sensitively; record variables are references (adding
a record variable to a collection adds the same record); a failing data element with a fault
connector sets $Flow.FaultMessage and follows it, without one the fault is unhandled
(`FlowFault`); governor limit exceptions are never caught by a fault path. Anything this runtime
does not execute (an element kind, operator, value kind or global variable) raises NOT_IMPLEMENTED
naming the flow and element, which no fault path catches either.
"""

import uuid

from localorg.errors import NotImplementedInLocalOrg
from localorg.flow import formula
from localorg.flow.faults import FlowCustomError, FlowFault
from localorg.flow.program import program_of
from localorg.flow.references import IMMUTABLE

__all__ = ["FlowCustomError", "FlowFault", "Interview"]


class Interview:
    """One run of one flow. `run()` is a generator of Requests returning the output variables."""

    def __init__(self, runtime, flow, inputs=None, record=None, path=(), start=None):
        self.rt = runtime
        self.flow = flow
        self.program = prog = program_of(flow)
        self.start = start or flow.start  # flow.async_start for the asynchronous path
        self.path = path  # ((flow, Subflow element), ...) that called this interview
        self.record = record
        self.vars = {}
        self.loops = {}
        self.auto = {}  # storeOutputAutomatically results by element name
        self.fault_message = None
        # Formula values of the current step, forgotten whenever anything they read may change
        # (each element, each assignment, each data result); stable formulas' values, kept
        # until a variable they read is assigned (references.py).
        self.memo = {}
        self.stable = {}
        self._guid = None
        if prog.template is not None:
            self.vars = prog.template.copy()
            for low in prog.lists:
                self.vars[low] = []
        else:
            for low, initial, is_collection in prog.inits:
                if initial is not None:
                    self.vars[low] = initial(self)
                else:
                    self.vars[low] = [] if is_collection else None
        for name, value in (inputs or {}).items():
            var = flow.variable(name)
            if var is None or not var.is_input:
                raise FlowFault(flow.name, "start",
                                f"Flow {flow.name}: {name} is not an input variable "
                                "(isInput=true) of this flow")
            self.vars[var.name.lower()] = value
        self.stable.clear()  # values read while the variables were being set up
        if any(self.vars[low].__class__ not in IMMUTABLE for low in prog.dependents):
            self.stable = self.memo

    @property
    def guid(self):
        """$Flow.InterviewGuid, made when first read."""
        if self._guid is None:
            self._guid = uuid.uuid4().hex
        return self._guid

    def fail(self, element, message):
        raise FlowFault(self.flow.name, element, f"Flow {self.flow.name}, element {element}: "
                        f"{message}")

    def unsupported(self, element, what):
        """Something Salesforce runs that this runtime does not: NOT_IMPLEMENTED, never a fault
        a flow's fault path could catch."""
        raise NotImplementedInLocalOrg(f"{what} (flow {self.flow.name}, element {element})")

    def run(self):
        plain, steps, memo = self.program.plain, self.program.steps, self.memo
        current = self.start
        while current:
            memo.clear()
            try:
                fn = plain.get(current)
                if fn is not None:
                    current = fn(self)
                else:  # a data element or subflow: a generator of Requests
                    current = yield from steps[current].fn(self)
            except formula.FormulaError as exc:  # e.g. a Number formula that yields text
                self.fail(current, exc.message)  # `current` is still the failing step's name
        prog, values = self.program, self.vars
        outputs = {name: values[low] for name, low in prog.outputs}
        self.rt.log.append({"flow": self.flow.name, "outputs": outputs,
                            "inputs": {name: values[low] for name, low in prog.inputs}})
        return outputs
