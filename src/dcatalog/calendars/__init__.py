"""Thai calendars: Buddhist Era dates, fiscal years, academic years and periods."""
