"""Policy P and pp-46-2011 written independently of Kinerja, from BENCH.md and DOMAIN.md, to compare with.

Each P module offers the same three things to the harness: `parse(line)` (a JSON line into the
form that engine takes), `make()` (set up once, untimed; returns the timed function from a list
of parsed records to a list of results) and `outputs(result)` (the five outputs of one result).
"""
