"""VSA Desktop: read the emotion expressed in text and images, together."""

__version__ = "0.1.0"
