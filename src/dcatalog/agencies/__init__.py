"""Partner agencies: government offices, schools, NGOs and businesses."""
