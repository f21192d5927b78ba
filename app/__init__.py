"""The server (Starlette): the built page from ``dist/`` with strict security headers, and DICOMweb.

``server.create_app`` builds the application, ``static`` serves ``dist/``, ``headers`` sets the CSP and
the other security headers, ``listen`` decides where plain HTTP is allowed, ``cli`` is ``python -m app``.
DICOMweb (PS3.18, ``dicomweb``): STOW-RS uploads (``stow``) re-checked by the engine (``recheck``, off the
event loop) and kept in ``store``, QIDO-RS (``qido``), bearer tokens (``tokens``, ``auth``), and forwarding
to a PACS (``forward``). No de-identification logic lives here: the re-check is
anonymizer.verification.verify.
"""
