"""Shared test helpers (loopback HTTP server)."""
