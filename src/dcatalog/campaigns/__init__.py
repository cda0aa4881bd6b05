"""Campaigns: partners' time-bound drives with a goal, and the public thank-you page."""
