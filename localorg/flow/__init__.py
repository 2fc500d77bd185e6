"""Offline flow runtime of the local org.

model.py loads Flow XML (reporting unsupported elements), formula.py evaluates formulas,
interpreter.py runs one interview as a generator of data requests, scheduler.py runs many
interviews together so each data element is one SOQL query or DML statement (bulkification), and
trigger.py runs active record-triggered flows after inserts. See scheduler.py for the design.
"""
