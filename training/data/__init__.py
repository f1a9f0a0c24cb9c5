"""``codegen-train data``: sources -> filters -> redaction -> dedup -> decontamination ->
task builders (``tasks/``) -> split -> dataset, stats and manifest."""
