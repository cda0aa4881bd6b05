"""Recording good deeds: one by one or in bulk, verification, credits and tallies."""
