"""PMS-Webapp: property management for vacation rentals."""

__version__ = "0.1.0"
