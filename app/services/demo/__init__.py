"""Demo data: procedurally drawn images, their prompts, the seed and the landing's live demo."""
