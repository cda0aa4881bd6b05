"""Good deeds proposed by the public for the catalog ("listen to stakeholders")."""
