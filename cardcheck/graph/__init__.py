"""The identity graph of persons, households, cards, holders, agents and phones: built from the
canonical frames (build.py), written as GraphML (export.py), shown as a tree (tree.py)."""
