"""Faults: killed imports, lost databases and workers, source health, backups that restore."""
