"""The image studio: batch jobs on the queue and the image engine (imageops)."""
