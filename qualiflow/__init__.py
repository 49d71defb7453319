"""Qualiflow: people, training, qualifications, production, equipment and quality in one data model."""

__version__ = "0.1.0"
