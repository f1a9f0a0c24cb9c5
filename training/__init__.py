"""codegen.training: ``codegen-train`` (pretrain, data, sft, merge)."""
