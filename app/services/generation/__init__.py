"""Image generation: from a JSON prompt to new images (rendering, sizes, presets, providers)."""
