"""`cardcheck precheck`: a month's 代发 batch screened before it goes to the bank.

batch.py reads the batch as that month's payments; screen.py runs the rule catalogue on it
stacked with the payments already made, and link.py ties the findings to the batch's lines
(the holds); split.py writes the batch back in two in its own layout; holdlist.py writes the
hold list and reads the approver's decisions; cardcheck/ledger/precheck.py keeps runs, lines
and decisions in the ledger; run.py and release.py are the two commands. docs/precheck.md is the user's guide.
"""
