"""Image generation: from a JSON prompt to new images (rendering per model, sizes, style presets,
providers, the offline layout preview, metadata in files) and how faithfully they follow it
(fidelity)."""
