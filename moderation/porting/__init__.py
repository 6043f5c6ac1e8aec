"""Moving comments in (Isso, Disqus, WordPress) and data out (JSON, CSV exports)."""
