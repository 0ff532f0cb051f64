"""Prices as data and the exact cost of every answer."""
