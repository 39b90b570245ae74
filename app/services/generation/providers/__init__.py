"""Image-generation providers: one module per vendor, each registering its models (kind
`image_generation`) through the analyzer's provider hook, so one registry lists every model.

    base        ImageModel (the kind's base class), progress reporting
    transport   the HTTP calls they share: error mapping, retries, downloads, data URLs
    together    Together AI's /images/generations (FLUX)
    fal_queue   Fal.ai's queue: submit, poll, fetch, cancel
    openrouter_images  OpenRouter chat completions that answer with images
"""
