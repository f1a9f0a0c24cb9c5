"""``codegen-train gate``: learn, from the acceptance log, which suggestions not to show.

- :mod:`.data`: the log's shown suggestions with their labels, split by time;
- :mod:`.fit`: a standardised logistic regression on :func:`codegen.core.gate.encode`
  vectors (scikit-learn), returned as a :class:`codegen.core.gate.Gate`;
- :mod:`.tradeoff`: the held-out curve (rejected withheld against accepted lost) and the
  threshold for a loss target;
- :mod:`.report`: ``gate.json``, ``metrics.json``, ``report.md`` and ``tradeoff.png``;
- :mod:`.train`: the run, top to bottom; :mod:`.cli`: its arguments.

The server needs none of this: it reads ``gate.json`` with ``codegen.core.gate``.
"""
