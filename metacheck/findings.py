"""The one result type every check returns, and how findings add up to a verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"
NOTE = "note"


@dataclass(frozen=True)
class Finding:
    """One problem (or notice) about one file.

    ``check`` is ``schema``, ``flow-scanner`` or ``convert``; ``rule`` names the schema
    problem kind or the Flow Scanner rule; ``element`` locates the XML element (for
    example ``decisions(myDecision)/rules(myRule_1)/conditions/operator``) or the flow
    element's API name. ``gating=False`` marks a finding that is reported but does not
    fail the run (Flow Scanner findings on corpus flows that are not the project's).
    """

    check: str
    severity: str
    file: str
    message: str
    line: int | None = None
    element: str | None = None
    rule: str | None = None
    gating: bool = True

    def as_dict(self) -> dict:
        return asdict(self)

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


def failed(findings: list[Finding]) -> bool:
    """True when any gating finding is an error."""
    return any(f.severity == ERROR and f.gating for f in findings)
