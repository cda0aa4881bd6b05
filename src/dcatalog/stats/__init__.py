"""Figures for the programme office: rollups of verified deeds kept current as
deeds are verified or revoked, a snapshot of every dashboard cell with its
distinct citizens and small-cell suppression, the dashboard pages and CSV."""
