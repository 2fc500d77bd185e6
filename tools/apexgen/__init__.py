"""Generate the Apex test class from the booking scenarios: `python -m tools.apexgen`."""
