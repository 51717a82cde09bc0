"""`python -m cardcheck` runs the command line."""

from cardcheck.cli import main

main()
