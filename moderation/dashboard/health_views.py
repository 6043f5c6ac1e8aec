"""Dashboard pages: health (being written)."""
