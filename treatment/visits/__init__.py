"""Prescriber availability and booked visits, session hours, and calendar feeds (issue 19)."""
