"""Kinerja: a rules engine that appraises Indonesian civil servants (ASN) against policies.

The flow, one subpackage per stage, each importing only the ones before it (the layers contract
in pyproject.toml): policy text -> engine.language (grammar, nodes, parser, printer) ->
engine.policy (source, document, model, names, checks: the checked policy) -> engine.evaluate
(records, the exact evaluator and the fast kernel, batch, io) -> engine.api (the facade, the only
module that knows the order) -> engine.review (explain, what-if, diff, distribution, rulebook) ->
engine.service (storage, the HTTP API's rules, the web) and engine.cli. The leaves below them all:
engine.numbers, engine.diagnostics, engine.i18n. The README's "Layout" names every module.
"""

__version__ = "0.1.0"
