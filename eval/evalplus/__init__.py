"""EvalPlus (HumanEval+, its Mini subset, MBPP+) scored the EvalPlus way.

A problem's expected outputs are its canonical solution's outputs on every base and
plus input (:mod:`.expected`); a sample passes base when its outputs match on every
base input, and plus when they also match on every plus input, with EvalPlus's float
tolerance, special oracles and per-input time limits (:mod:`.oracle`). The sample
runs in the sandbox and reports only its return values (:mod:`.harness`); the
comparison happens here, in the trusted process (:mod:`.scoring`). :mod:`.run` writes a
run directory; :mod:`.mutants` and :mod:`.reference` (evalplus's own evaluator, run
from its own venv) serve the parity test and the bench.
"""
