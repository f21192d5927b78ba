"""The server (Starlette): the built page from ``dist/`` with strict security headers.

``server.create_app`` builds the application, ``static`` serves ``dist/``, ``headers`` sets the CSP and
the other security headers, ``listen`` decides where plain HTTP is allowed, ``cli`` is ``python -m app``.
"""
