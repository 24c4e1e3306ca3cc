"""Intake: the landing folder (discovery, checksums, quarantine) and the file readers."""
