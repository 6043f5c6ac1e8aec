"""Moving comments in (Isso, Disqus) and data out (JSON, CSV exports)."""
