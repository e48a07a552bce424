"""Solving: funding rules, list schedules, the only module that knows solver statuses, and `plan()`."""
