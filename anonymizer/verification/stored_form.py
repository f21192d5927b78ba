"""The form in which the server stores an upload: a file it writes itself around the data set it was sent.

    stored = stored_form(data)       # bytes in, bytes out; raises a DeidentificationError when it cannot

The 128-byte preamble (PS3.10 7.1: free for application use, so free to hold a name) and the File Meta
Information (Source Application Entity Title (0002,0016), Private Information (0002,0102), ... may name a
workstation, a site or a person) are the client's, and nothing checks what they hold beyond their structure.
So none of it is kept: the preamble is zeroed and the meta is written again from the data set's own SOP Class
and SOP Instance UIDs and the transfer syntax the data set is encoded in, with this product's Implementation
Class UID and Version Name (as the engine writes it, planner.meta_steps). The data set's bytes are unchanged,
so what was re-checked is what is stored. For an engine output the stored form is the file itself (tested),
so a resuming client's SHA-256 of its own output matches the server's.
"""

from __future__ import annotations

import warnings

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import UID

from ..errors import MalformedDicomError
from ..planning.planner import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION
from ..reading.reader import read_dataset
from ..reading.structure import StructureWalker

__all__ = ["stored_form", "stored_form_of"]

_PREAMBLE = 128
_MAGIC = b"DICM"


def _data_set_start(data: bytes) -> tuple[int, str]:
    """Where the data set starts (just after the file meta group) and the transfer syntax the meta states."""
    if len(data) < _PREAMBLE + 4 or data[_PREAMBLE : _PREAMBLE + 4] != _MAGIC:
        raise MalformedDicomError(
            "the server stores only DICOM files with a file meta header (PS3.10 7.1: a 128-byte preamble "
            "and 'DICM'); this upload has none, so the encoding of its data set cannot be stated"
        )
    meta = StructureWalker(data, True)
    start = meta.walk(_PREAMBLE + 4, len(data), implicit=False, stop_group=2)
    raw = meta.values.get(0x00020010)
    syntax = raw.decode("latin-1").strip("\0 ") if raw is not None else ""
    if not syntax:
        raise MalformedDicomError(
            "the file meta information has no Transfer Syntax UID (0002,0010): the server cannot state how "
            "the data set is encoded, so it cannot store it"
        )
    return start, syntax


def stored_form_of(data: bytes, ds: Dataset) -> bytes:
    """The stored form of `data`, whose data set `ds` was read from these very bytes by the fail-closed
    reader (anonymizer.reading.reader.read_dataset): the checker reads each upload once."""
    start, syntax = _data_set_start(data)
    sop_class, sop_instance = str(ds.get("SOPClassUID", "")), str(ds.get("SOPInstanceUID", ""))
    if not sop_class or not sop_instance:
        raise MalformedDicomError(
            "the data set has no SOP Class UID (0008,0016) or SOP Instance UID (0008,0018), so the server "
            "cannot write the file meta information for it (PS3.10 7.1)"
        )
    meta = FileMetaDataset()
    with warnings.catch_warnings():  # pydicom warns about invalid UIDs: the re-check judges the data set's
        warnings.simplefilter("ignore")
        meta.FileMetaInformationVersion = b"\x00\x01"
        meta.MediaStorageSOPClassUID = UID(sop_class)
        meta.MediaStorageSOPInstanceUID = UID(sop_instance)
        meta.TransferSyntaxUID = UID(syntax)
        meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
        meta.ImplementationVersionName = IMPLEMENTATION_VERSION
    out = DicomBytesIO()
    out.write(b"\x00" * _PREAMBLE + _MAGIC)
    write_file_meta_info(out, meta, enforce_standard=True)  # with its group length (0002,0000)
    out.write(memoryview(data)[start:])
    return out.getvalue()


def stored_form(data: bytes) -> bytes:
    """The file the server stores for the upload `data`: a zeroed preamble, a file meta written from the data
    set's own UIDs and transfer syntax, the data set's bytes unchanged. Raises a DeidentificationError
    (what it means first, then the detail) when the file cannot be read whole or given a meta."""
    data = bytes(data)
    return stored_form_of(data, read_dataset(data))
