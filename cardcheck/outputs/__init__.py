"""What a run writes: findings.csv, rejects.csv, the ledger record, the workbook, the manifest
and the terminal summary (write.py), and their canonical-table form (canonical.py)."""
