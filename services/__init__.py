"""Domain logic as plain async functions: no NiceGUI imports here."""
