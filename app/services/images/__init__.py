"""Image intake: validation by content, storage once, thumbnails."""
