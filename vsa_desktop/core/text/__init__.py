"""Text channel: analyzers that turn text into seven emotion probabilities."""
