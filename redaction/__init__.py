"""Pixel redaction (Clean Pixel Data, PS3.15 E.3.1): arrives with the pixel redaction issue."""
