"""Tests for the public website."""
