"""Plain-Python services: the business logic of JSONCraft. Never imports reflex.

One package per domain, so a feature reads pages/X → state/X → services/X → tables:

    core/       the database and its tables (models.py), object storage, the job queue, logs,
                rate limits, health, migrations, and the one error hierarchy (errors.py)
    accounts/   sign-up, sign-in with passwords and Google, sessions and their cookie, API keys,
                the admin's user list, the signed-in overview, the product-updates list
    analyzer/   image → streamed JSON prompt (analysis), conversations, JSON repair and
                streaming, offline refinement, style memory and embeddings;
                providers/ (the model registry and each vendor), vision/ (the offline
                analyzer: pixel measurements), catalogue/ (models the providers list)
    library/    the prompt library: prompts/ (the JSON schema, prose), writes, gallery and
                search, prompt operations and versions, access rules, diffs, tools/ (lint,
                presets, exports), bundles (import and export)
    images/     image intake: checked by content, stored once, thumbnails
    studio/     the image studio: jobs/ (batch jobs on the queue) and imageops/ (the image
                engine: no database, no storage)
    billing/    the credit ledger, prices and plans, Stripe checkout and webhooks, reports
    demo/       demo data: drawn images and the prompts measured from them, the seed, the
                landing page's live demo
    worker/     what the huey worker runs: job tasks and periodic maintenance

Dependencies point down this list's spirit: everything may use core; domains use each
other's public functions; nothing here imports reflex, app.state, app.pages, app.components or
app.api, and only demo/ (and the CLI) imports demo data.
"""
