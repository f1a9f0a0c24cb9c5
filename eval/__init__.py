"""codegen.eval: ``codegen-eval`` (HumanEval, infilling, repository FIM, samples, compare)."""
