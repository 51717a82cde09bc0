"""One `cardcheck check` or `normalise`: options and run types (run.py), the run from input
files (run.py) and from canonical tables (canonical.py)."""
