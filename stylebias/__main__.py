"""``python -m stylebias`` runs the CLI (same as the ``stylebias`` console script)."""

from .cli import main

main()
