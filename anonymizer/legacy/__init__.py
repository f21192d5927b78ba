"""The legacy Pacsbin (CTP DicomAnonymizer) script profile."""
