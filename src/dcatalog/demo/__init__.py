"""Realistic demo data: the first partners and, as features land, their deeds,
benefits and people. Every record here is made up, but follows the real rules."""
