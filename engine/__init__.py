"""Kinerja: a rules engine that appraises Indonesian civil servants (ASN) against policies.

The flow, one module per stage: source (YAML) -> policyfile (extends, schema) -> model ->
checks -> compiler -> api.evaluate -> explain. The CLI (cli) and the service (server.py)
call engine.api and nothing deeper.
"""

__version__ = "0.1.0"
