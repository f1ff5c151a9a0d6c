"""Bringing old scrapes in: the import command's logic and the URS file format."""
