"""Operating the service: health, readiness, metrics and facts about this instance."""
