"""Optimizers and the topography of neural-network loss landscapes: a reproduction."""
