"""Image generation from JSON prompts, and how faithfully the images follow them."""
