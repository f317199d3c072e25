"""Writes of the deals app, one module per topic."""
