"""Text inside pixel codestreams and encapsulated documents."""
