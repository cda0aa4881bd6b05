"""Staff accounts, roles, sign-in sessions and agency API keys."""
