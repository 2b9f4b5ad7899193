"""Small data files that ship with fashiongraph (derived statistics of the real H&M tables)."""
