"""Dashboard pages: stats (being written)."""
