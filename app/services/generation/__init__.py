"""Image generation: from a JSON prompt to new images, through the providers in `providers/`."""
