"""Qt-free core of VSA Desktop: analyzers, fusion, pipeline, history and export."""
