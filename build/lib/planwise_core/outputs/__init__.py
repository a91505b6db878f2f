"""Reading finished results: the per-year summary, exports and database comparison."""
