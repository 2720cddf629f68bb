"""Allow ``python -m titanic``."""

from titanic.cli import main

main()
