"""Readers and writers for the custom driving-data formats."""
