"""Header de-identification per DICOM PS3.15 Annex E (Table E.1-1, 2026d): bytes in, bytes out.

Pure library: no UI, no network. Runs natively and in Pyodide (pydicom is the one dependency).
"""

__version__ = "0.1.0"
