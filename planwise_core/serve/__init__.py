"""`planwise serve`: a local web application and REST API over the library (docs/serve.md).

``workspace`` (folders, ids, safe paths), ``security`` (the HTTP gate), ``events`` (progress files and SSE),
``jobs`` (the queue and worker processes), ``worker`` (one run in a child process), ``uploads`` (streamed
bodies), ``services`` (what the API and pages do with the library), ``api`` and ``pages`` (the routes),
``app`` (assembly) and ``server`` (uvicorn).
"""
