"""The analyzer: image → streamed JSON prompt, refinement, providers, offline vision and the
model catalogue."""
