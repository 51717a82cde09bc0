"""The campaign's ledger across stages: the SQLite store (store.py), the 表4 round trip in
Excel (excel.py) and the 重点抽查 visit lists (sampling.py)."""
