"""Edit history and next-edit suggestions (``textDocument/copilotInlineEdit``)."""
