"""Metadata checks for this project: schema, Lightning Flow Scanner and sf convert.

- ``metacheck.schema.validate(path_or_bytes, kind=None, filename=None) -> list[Finding]``:
  Salesforce Metadata API schema check, reused by the local org's Metadata deploy.
- ``metacheck.scanner.scan(...)``: Lightning Flow Scanner through ``scan_flows.mjs``.
- ``metacheck.convert.convert(project_dir)``: ``sf project convert source`` + package.xml.
- ``metacheck.cache``: the Node tools' results kept for the same inputs (``METACHECK_CACHE``).
- ``python -m metacheck``: all three with a text or ``--json`` report (see ``cli``).
"""
