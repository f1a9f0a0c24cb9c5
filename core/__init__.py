"""codegen.core: model runtime (loading, FIM formats, generation engine), syntax helpers."""
