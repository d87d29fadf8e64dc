"""Tests of the Django side."""
