"""codegen.server: the ``codegen-lsp`` language server (pygls 2).

Importing this package is cheap: pygls loads when the server is created and
torch only when a real model loads.
"""
