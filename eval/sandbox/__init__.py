"""The trust boundary: everything that runs untrusted generated code.

A warm pool of launchers (``pool``), each forking one isolated child per sample
(``launcher``, ``isolation``), running ``runner`` next to the untrusted code and
talking length-prefixed frames (``wire``) of plain data (``plain_data``).
Nothing in this package imports the rest of ``codegen.eval``; the trusted
verdict lives outside it."""
