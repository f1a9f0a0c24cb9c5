"""``codegen-train sft``: (Q)LoRA fine-tuning on ``codegen-train data`` output.

``config`` holds the run configuration, ``train`` the entry point, ``trainer`` the
transformers Trainer around it; ``packing``/``collator`` make the batches and
``fim_metric`` measures FIM exact match during training."""
