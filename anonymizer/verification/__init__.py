"""The server's re-check: what arrives must be what our engine would have written."""
