"""The audit trail: who changed what, when, why, with the record before and after."""
