"""Tests of the source adapters and the shared HTTP client."""
