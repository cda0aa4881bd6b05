"""Benefits and thanks: eligibility rules, milestones, claims and partner checks."""
