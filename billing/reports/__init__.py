"""The money reports a partner reads (docs/billing.md, "Money reports"): work in
progress, receivables ageing, realization, revenue, and budget against actual.

`period` reads the period filter from the address; `selectors` computes each
report in PostgreSQL (one grouped query a table, whatever the firm's size);
the pages are billing/views/reports.py.
"""
