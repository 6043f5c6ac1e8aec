"""`python -m moderation ...` is the `moderation` command."""
from .cli import main

main()
