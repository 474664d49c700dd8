"""The kernel function itself: accept the record (validation), check its requirements, compute
its outputs. Validation only accepts: anything it does not accept raises Fallback, and the exact
evaluator says what is wrong, at its JSON pointer."""

from __future__ import annotations

from fractions import Fraction

from engine.evaluate.kernel.emitter import Ctx, Emitter, Unsupported, Val, mul, spec_sign
from engine.evaluate.records import MAX_ID_LENGTH, MAX_TEXT_LENGTH, RECORD_META
from engine.policy.bounds import MAX_LIST_ITEMS
from engine.policy.model import InputSpec, OutputDef, Requirement


class RecordCode(Emitter):
    """The body of `def kernel(R)`: returns (outputs, memo of values, item memos per list)."""

    def kernel(self) -> None:
        self.emit("if R.__class__ is not dict: raise Fallback")
        known = self.const(frozenset([*self.policy.inputs, *RECORD_META]))
        self.emit(f"if not {known}.issuperset(R): raise Fallback")
        if "periode" not in self.policy.inputs:  # the reserved field: as records.py checks it
            self.emit("if 'periode' in R and not _is_period(R['periode']): raise Fallback")
        self.emit("x = R.get('id', _M)")
        self.emit(
            f"if x is not _M and not ((x.__class__ is str and 0 < len(x) <= {MAX_ID_LENGTH} "
            f"and '\\x00' not in x) or (x.__class__ is int and len(str(x)) <= {MAX_ID_LENGTH})): "
            "raise Fallback"
        )
        self.inputs = {}
        for spec in self.policy.inputs.values():
            self.validate_field("R", spec, ())
        self.emit("M = {}; IM = {}")
        for requirement in self.policy.requirements.values():
            self.requirement(requirement)
        self.emit("O = {}")
        for output in self.policy.outputs.values():
            self.output(output)
        self.emit("return O, M, IM")

    def validate_field(self, container: str, spec: InputSpec, path: tuple[str, ...] | None = None) -> None:
        """Check one field; where it is always there (`path` given, required, not nullable), keep
        its converted value in self.inputs so the kernel reads it once."""
        x = self.tmp()
        if spec.required and spec.null != "not_applicable":  # None fails every type test below
            self.emit(f"{x} = {container}.get({spec.name!r})")
            val = self.validate_value(x, spec, path + (spec.name,) if path is not None else None)
            if path is not None and val is not None:
                self.inputs[path + (spec.name,)] = val
            return
        self.emit(f"{x} = {container}.get({spec.name!r}, _M)")
        self.emit(f"if {x} is _M: " + ("raise Fallback" if spec.required else "pass"))
        self.emit(f"elif {x} is None: " + ("pass" if spec.null == "not_applicable" else "raise Fallback"))
        self.emit("else:")
        self.open()
        self.validate_value(x, spec)
        self.close()

    def validate_value(self, x: str, spec: InputSpec, path: tuple[str, ...] | None = None) -> Val | None:
        """Check a value; a number becomes a pair of ints. Returns what the kernel may read."""
        kind = spec.type
        if kind in ("number", "integer"):
            return self.validate_number(x, spec)
        if kind == "number_or_range":
            number = InputSpec(
                spec.name,
                "number",
                spec.path,
                spec.position,
                minimum=spec.minimum,
                maximum=spec.maximum,
                exclusive_minimum=spec.exclusive_minimum,
                exclusive_maximum=spec.exclusive_maximum,
            )
            self.emit(f"if {x}.__class__ is list:")
            self.open()
            self.emit(f"if len({x}) != 2: raise Fallback")
            low, high = self.tmp(), self.tmp()
            self.emit(f"{low}, {high} = {x}")
            a, b = self.validate_number(low, number), self.validate_number(high, number)
            self.emit(f"if {mul(a.v, b.d)} > {mul(b.v, a.d)}: raise Fallback")
            self.close()
            self.emit("else:")
            self.open()
            self.validate_number(x, number)
            self.close()
            return None
        if kind == "text":
            self.emit(f"if {x}.__class__ is not str or len({x}) > {MAX_TEXT_LENGTH}: raise Fallback")
            if spec.enum is not None:
                allowed = frozenset(v for v in spec.enum if isinstance(v, str))
                self.emit(f"if {x} not in {self.const(allowed)}: raise Fallback")
            return Val("text", x)
        if kind == "boolean":
            self.emit(f"if {x} is not True and {x} is not False: raise Fallback")
            return Val("bool", x)
        if kind == "record":
            self.emit(f"if {x}.__class__ is not dict: raise Fallback")
            self.emit(f"if not {self.const(frozenset(spec.fields))}.issuperset({x}): raise Fallback")
            for field_spec in spec.fields.values():
                self.validate_field(x, field_spec, path)
            return Val("rec", x, spec=spec, path=path)
        if kind == "list":
            most = spec.max_items if spec.max_items is not None else MAX_LIST_ITEMS
            fewest = spec.min_items or 0
            self.emit(f"if {x}.__class__ is not list or not {fewest} <= len({x}) <= {most}: raise Fallback")
            if spec.items is not None:
                if spec.items.null == "not_applicable":
                    raise Unsupported("null list items")
                element = self.tmp()
                self.emit(f"for {element} in {x}:")
                self.open()
                self.validate_value(element, spec.items)
                self.close()
            return Val("list", x, spec=spec, scope=spec.name) if path is not None and len(path) == 1 else None
        raise Unsupported(f"inputs of type {kind}")

    def validate_number(self, x: str, spec: InputSpec) -> Val:
        """A number or an integer within its declared bounds and enum."""
        bounds = [
            (b, symbol)
            for b, symbol in (
                (spec.minimum, ">="),
                (spec.maximum, "<="),
                (spec.exclusive_minimum, ">"),
                (spec.exclusive_maximum, "<"),
            )
            if b is not None
        ]
        if spec.type == "integer":
            low = max([b for b, symbol in bounds if symbol[0] == ">" and b.denominator == 1] + [Fraction(-(10**15))])
            high = min([b for b, symbol in bounds if symbol[0] == "<" and b.denominator == 1] + [Fraction(10**15)])
            self.emit(f"if {x}.__class__ is not int or not {low} <= {x} <= {high}: raise Fallback")
            num, den = x, "1"
        else:
            num, den = self.number_pair(x)
        for bound, symbol in bounds:
            self.emit(
                f"if not {mul(num, str(bound.denominator))} {symbol} {mul(str(bound.numerator), den)}: raise Fallback"
            )
        if spec.enum is not None:
            allowed = frozenset((v.numerator, v.denominator) for v in spec.enum if isinstance(v, Fraction))
            self.emit(f"if ({num}, {den}) not in {self.const(allowed)}: raise Fallback")
        return Val("num", num, den, sign=spec_sign(spec))

    def number_pair(self, x: str) -> tuple[str, str]:
        """A number of the record as (numerator, denominator), within 10^15 (engine.numbers): a
        pair from decode_pairs (at most 16 characters, so within it), an int, or a Decimal."""
        num, den = self.tmp(), self.tmp()
        self.emit(f"if {x}.__class__ is tuple: {num}, {den} = {x}")
        self.emit(f"elif {x}.__class__ is int:")
        self.emit(f"    if not -{10**15} <= {x} <= {10**15}: raise Fallback")
        self.emit(f"    {num} = {x}; {den} = 1")
        self.emit(f"elif {x}.__class__ is Decimal:")
        self.emit(f"    {num}, {den} = {x}.as_integer_ratio()")
        self.emit(f"    if not -{10**15} * {den} <= {num} <= {10**15} * {den}: raise Fallback")
        self.emit("else: raise Fallback")
        return num, den

    def requirement(self, requirement: Requirement) -> None:
        if requirement.rule is None or requirement.rule.node is None:
            raise Unsupported(f"the requirement {requirement.name}")
        if requirement.for_each is None:
            test = self.expr(requirement.rule.node, Ctx())
            self.expect(test, "bool")
            self.emit(f"if not {test.v}: raise Fallback")  # the exact path lists every failed rule
            return
        scope = requirement.for_each
        memos, item, memo = self.tmp(), self.tmp(), self.tmp()
        self.touch(scope)
        self.emit(f"{memos} = IM.get({scope!r})")
        self.emit(f"if {memos} is None: {memos} = IM[{scope!r}] = [{{}} for _ in R.get({scope!r}) or ()]")
        self.emit(f"for {item}, {memo} in zip(R.get({scope!r}) or (), {memos}):")
        self.open_loop()
        test = self.expr(requirement.rule.node, Ctx(scope, item, memo))
        self.expect(test, "bool")
        self.emit(f"if not {test.v}: raise Fallback")
        self.close_loop()

    def output(self, output: OutputDef) -> None:
        when = output.when.node if output.when is not None else None
        if when is not None:
            test = self.expr(when, Ctx())
            self.expect(test, "bool")
            self.emit(f"if {test.v}:")
            self.open()
        if output.value is None or output.value.node is None:
            raise Unsupported(f"output '{output.name}' did not parse")
        val = self.expr(output.value.node, Ctx())
        if val.kind == "num":
            self.emit(f"O[{output.name!r}] = _out({val.v}, {val.d}, {output.places}, {self.const(output.mode)})")
        elif val.kind in ("text", "bool"):
            self.emit(f"O[{output.name!r}] = {val.v}")
        else:
            raise Unsupported(f"output '{output.name}' is a {val.kind}")
        if when is not None:
            self.close()
