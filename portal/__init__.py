"""Wiring: settings, database, app assembly, guards, dev mailbox and the command line."""
