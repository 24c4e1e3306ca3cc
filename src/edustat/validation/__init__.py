"""Validation: the GX suite built from edustat.rules, run once per night over every new file."""
