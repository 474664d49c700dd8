"""What a name in a formula refers to: the one chokepoint the checks and the compiler share.

Lookup order inside a formula: the variables of enclosing aggregates (`k` in
`mean(k.nilai for k in kegiatan)`); then, in an item value, the item's own fields and item
values; then the policy's inputs; then its values. A name that is none of these is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.language import nodes as n
from engine.policy.functions import AGGREGATES, FUNCTIONS  # noqa: F401 (the registry: what a formula may call)
from engine.policy.model import InputSpec, PolicyView


@dataclass(frozen=True)
class Ref:
    """What a name resolved to."""

    kind: str  # "local" | "input" | "field" (a field of the current item) | "value" | "item_value"
    name: str
    scope: str | None = None  # for item values: the list they belong to
    spec: InputSpec | None = None


@dataclass(frozen=True)
class Context:
    """Where a formula is evaluated: the list whose item it belongs to, and aggregate variables."""

    scope: str | None = None
    locals: tuple[tuple[str, Any], ...] = ()  # of (name, element descriptor)

    def bind(self, name: str, element: Any) -> Context:
        return Context(self.scope, ((name, element),) + self.locals)

    def local(self, name: str) -> Any:
        for bound, element in self.locals:
            if bound == name:
                return element
        return None


def item_spec(policy: PolicyView, list_name: str) -> InputSpec | None:
    spec = policy.inputs.get(list_name)
    return spec.items if spec is not None and spec.type == "list" else None


def resolve(policy: PolicyView, context: Context, name: str) -> Ref | None:
    if context.local(name) is not None:
        return Ref("local", name)
    if context.scope is not None:
        item = item_spec(policy, context.scope)
        if item is not None and name in item.fields:
            return Ref("field", name, context.scope, item.fields[name])
        if (context.scope, name) in policy.values:
            return Ref("item_value", name, context.scope)
    if name in policy.inputs:
        return Ref("input", name, None, policy.inputs[name])
    if (None, name) in policy.values:
        return Ref("value", name)
    return None


def visible_names(policy: PolicyView, context: Context) -> list[str]:
    names = [b for b, _ in context.locals]
    if context.scope is not None:
        item = item_spec(policy, context.scope)
        names += list(item.fields) if item is not None else []
        names += [name for scope, name in policy.values if scope == context.scope]
    names += list(policy.inputs)
    names += [name for scope, name in policy.values if scope is None]
    return names


def references(policy: PolicyView, context: Context, node: n.Expr) -> list[tuple[Ref, n.Expr]]:
    """Every name a formula reads, resolved, including item values read through `k.nilai`.

    Names that do not resolve are skipped here (the names check reports them).
    """
    found: list[tuple[Ref, n.Expr]] = []

    def walk(expr: n.Expr, ctx: Context) -> None:
        match expr:
            case n.Name(id=name):
                ref = resolve(policy, ctx, name)
                if ref is not None:
                    found.append((ref, expr))
            case n.Field(obj=obj, name=field_name):
                walk(obj, ctx)
                scope = list_item_of(policy, ctx, obj)
                if scope is not None and (scope, field_name) in policy.values:
                    found.append((Ref("item_value", field_name, scope), expr))
            case n.Aggregate(element=element, var=var, source=src, filter=condition):
                walk(src, ctx)
                inner = ctx.bind(var, ("item_of", src))
                walk(element, inner)
                if condition is not None:
                    walk(condition, inner)
            case n.Call(function="present", args=args):
                for arg in args:
                    walk(arg, ctx)
            case _:
                for child in n.children(expr):
                    walk(child, ctx)

    walk(node, context)
    return found


def list_item_of(policy: PolicyView, context: Context, expr: n.Expr) -> str | None:
    """If `expr` denotes an item of a list input (an aggregate variable), the list's name."""
    if isinstance(expr, n.Name):
        element = context.local(expr.id)
        if isinstance(element, tuple) and element[0] == "item_of":
            source = element[1]
            if isinstance(source, n.Name):
                ref = resolve(policy, Context(context.scope, ()), source.id)
                if ref is not None and ref.kind == "input" and ref.spec is not None and ref.spec.type == "list":
                    return source.id
    return None
