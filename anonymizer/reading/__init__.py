"""Reading a file: the fail-closed read, its structure walk and the index's summary scan."""
