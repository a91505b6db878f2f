"""Logging set-up and the performance monitor."""
