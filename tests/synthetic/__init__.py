"""Synthetic DICOM test data with identifying values planted everywhere.

This is a helper for the engine's tests, not a test module. Every generator is a pure function of its
seed. Each one builds a DICOM Part 10 file in memory and returns a :class:`PlantedFile`. It holds the
encoded bytes and records of what was planted and where, so a test can de-identify ``data`` and then
assert that nothing identifying survives (:func:`find_markers`), that what must survive did
(``kept``), and that UID and date relationships are preserved (``uids``, ``temporal``).

Markers
    Each identifying text value contains a unique *token* such as ``PHIx0042QZKW``: ``PHIx``, a
    4-digit running number and 4 seeded random letters. Such a string cannot turn up by chance.
    Tokens are upper-cased where the VR allows only upper case (CS, AE). :func:`find_markers`
    matches them case-insensitively, in ASCII, UTF-16LE and UTF-16BE. The VR shapes the value
    around the token:

    * PN ``PHIx0042QZKW^Given``, LO/SH/UC the bare token, CS/AE ``PHIX0042QZKW``
    * LT/ST/UT a sentence containing the token; UR ``http://phix0042qzkw.example/``
    * OB/OW/UN/OF/OD/OL/OV bytes ``PHI:<token>`` plus NUL padding
    * SQ one item carrying PatientName (PN), InstitutionName (LO), StudyDate (DA) and
      ReferencedSOPInstanceUID (UI) markers

    Values that cannot hold a token are recorded as follows:

    * UI: fresh UIDs under ``1.2.826.0.1.3680043.10.999`` with a fixed-width last component, so
      none is a prefix of another. They go in ``uids``, which maps each UID to every place it was
      planted. The same UID planted twice, for example a StudyInstanceUID that a reference points
      back to, is a relationship the engine must keep.
    * DA: distinctive dates. Most fall in 1931-1969. The "key" dates (``temporal``) fall in
      1977-1989 and are spaced a known number of days apart. They go in ``dates``.
    * TM: times with a unique 6-digit fraction, ``HHMMSS.FFFFFF``. They go in ``times``.
    * DT: ``<date><time>+0130``. Its parts are recorded in ``dates`` and ``times``.
    * IS/DS: unique 7-digit numbers ``42xxxxx``. They go in ``numbers``.
    * AS, US/SS/UL/SL, FL/FD, AT: ``values``, keyed by location, because they cannot be searched
      for in bytes.

Locations ("where") are written ``(GGGG,EEEE) Keyword``, joined by `` > `` down through sequence
items, for example ``(0008,1115) ReferencedSeriesSequence[0] > (0010,0010) PatientName``. A path
without `` > `` and without a ``file meta:``/``preamble`` prefix is a top-level element.
``[not in E.1-1]`` marks attributes that Table E.1-1 does not list.

``kept`` maps a path to the value that must survive unchanged. The path is written in keywords,
e.g. ``Rows``, ``AnatomicRegionSequence[0].CodeValue`` or ``file_meta.TransferSyntaxUID``; resolve
it with :func:`get_path`. Keys that start with ``#`` name special checks that are described where
they are made (``#jpeg_scan_data``).

Modules (import from them directly; this package re-exports nothing):

* ``planted``: :class:`PlantedFile`, the result of every generator, and the marker search
  (:func:`find_markers`, :func:`scan_for_tokens`, :func:`get_path`, ``TOKEN_RE``)
* ``e11_table``: Table E.1-1 rows (``table_rows``), ``tag_str``, ``vr_vm`` and ``NEW_TAG_VR_VM``
* ``planting``: the seeded value source and the planter that records what it puts where
* ``iod_parts``: SOP class and transfer syntax UIDs and the DICOM parts the generators share
* ``all_table_rows``: ``all_table_rows_file``, ``NOT_TOP_LEVEL``, ``UNLISTED_BY_VR``
* ``sr``: ``sr_file``; ``presentation_state``: ``presentation_state_file``
* ``jpeg``: ``jpeg_file``, ``jpeg_segments``, ``jpeg_scan_data``
* ``study``: ``study_of_files``
"""
