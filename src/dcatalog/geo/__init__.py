"""Places: Thailand's provinces by their ISO 3166-2:TH codes."""
