"""Hostile inputs driven through the real code paths; figures tallied by ``report``."""
