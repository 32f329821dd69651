"""Vision channel: backends that turn an image into seven emotion scores."""
