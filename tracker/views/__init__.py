"""Public pages: thin views over ``tracker.selectors``."""
