"""The rules: Table E.1-1 and its option columns, IOD types, the actions, scrubbing, dates,
pseudonyms, marking."""
