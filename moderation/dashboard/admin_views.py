"""Dashboard pages: admin (being written)."""
