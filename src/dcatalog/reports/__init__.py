"""Batch reports for partners: which of the citizens a partner names meet one of
its benefits' rules (with their consent), as CSV and XLSX, made in the background."""
