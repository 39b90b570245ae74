"""Plain-Python services: the business logic of JSONCraft. Never imports reflex.

One package per domain, so a feature reads pages/X → state/X → services/X → tables:

    core/       the database and its tables (models.py), object storage, the job queue, logs,
                secret_box (secrets sealed at rest with a key derived from SECRET_KEY),
                rate limits, health, migrations, the one error hierarchy (errors.py), the
                shared HTTP client per event loop and HTTP error mapping (http, http_errors),
                units (byte sizes as people read them), heartbeat (a worker's lease kept alive),
                metrics (every Prometheus metric), provider_calls, tracing (OpenTelemetry),
                error_events (the error log and Sentry), after_commit;
                db.size_pool_for gives a worker with many threads enough connections
    accounts/   sign-up, sign-in with passwords and Google, sessions and their cookie, API keys,
                the admin's user list, the signed-in overview, the product-updates list
    analyzer/   image → streamed JSON prompt (analysis), the chat workflow (chat: start, reload,
                save), batch (the CLI's analyze … --save), conversations, JSON repair and
                streaming, offline refinement, style memory and embeddings; providers/
                (plugins register their models through one pluggy hook, `register_models`; the
                registry, typed options per provider, each vendor, Fal vision models through
                the Fal queue), vision/ (the offline
                analyzer: it measures pixels itself: colour, pixel_stats, palette, lighting...),
                catalogue/ (models the providers list)
    library/    the prompt library: prompts/ (the JSON schema, prose), writes, gallery and
                search, prompt_ops/ (detail, versions, marks, sharing, bulk, trash), access
                rules, diffs, tools/ (lint and its lighting rules, presets, exports), bundles/
                (format, archive, export, importer, listing)
    images/     decode (pure checks shared with the engine: format sniffing, pixel limits),
                intake (checked by content, stored once, thumbnails), ownership (the one
                "this image is yours" check)
    studio/     the image studio: jobs/ (batch jobs; dispatch owns their queue task),
                imageops/ (the image engine: no database, no storage, heavy libraries loaded
                by the operation that needs them), staging (files picked before a run),
                describe (describe an output into the gallery; jobs/describe_step runs the
                "Describe as JSON prompts" operation with describe_credits per image)
    billing/    the credit ledger (credits, ledger_lock), prices and plans, billing/ (Stripe
                checkout, webhooks, payment history), reports
    generation/ image generation from a JSON prompt: types (request, result, progress),
                providers/ (Together, the Fal queue, OpenRouter image models, registered
                through the analyzer's plugin hook as kind image_generation; one transport with
                retries), render (what each model family receives), sizes (aspect presets),
                presets (style presets shown as a diff), layout_preview (the offline renderer),
                model_choices (what /generate offers and why a model can't be picked), sources
                (an analyzer answer as the starting prompt), metadata (parameters inside
                PNG/JPEG/WebP files), fidelity* (the round-trip score: docs/fidelity.md) and
                round_trip (scoring a made image), runs (start, quote, cancel; credits per
                image) with run_records and run_reads (what callers see), planning (the one
                planner of queued and direct runs: model, preset, size, rendering, seeds),
                run_queue, run_worker, run_lease (the queue task), image_maker (one image from
                a provider or the preview), gallery_entry, labels and restore (a made image as
                a gallery entry; a dropped file's JSON restored), direct (the CLI's generate:
                no queue, no credits), lora_* (LoRA training on Fal: photos, records, the
                queue step and reconciliation, the signed webhook, progress)
    uploads/    the developer upload platform: projects (create within the plan, delete with
                everything), ownership (the owner check), keys (scopes, regenerate with a grace
                period), project_config (upload rules, one validation), project_usage, presign
                (single PUT or multipart, caps, quotas, rate), complete (size and sniffed type),
                file_types, records (log, links, delete), client_tokens (for browsers), views
                (the one JSON shape of an upload), dashboard (the owner's log, delete and
                test-uploader token), processing (scan + thumbnail job), scanner (clamd),
                previews (WebP + ThumbHash and its placeholder), expiry, buckets (a project's
                own S3 bucket, sealed keys), bucket_check, cors (guidance), cdn
                (content-addressed public copies)
    webhooks/   Standard Webhooks to developers' endpoints: outbox (events written with the
                change), events, endpoints (secrets, rotation), signing, destinations (SSRF
                rules), dispatch (queue task, kick after commit, sweep), sender, schedule
                (the retry schedule), deliveries (log, replay, test event), notices
    notify/     email notifications: outbox (`notify`, written in the caller's transaction),
                kinds (the contract: context keys, dedupe keys), triggers (one function per
                kind), render and templates/ (HTML + text), dispatch and sender (the queue task,
                SMTP, retries by schedule), preferences, tokens (one-click unsubscribe)
    ops/        what /admin/system reads: access, queue_status, workers (the heartbeat writer),
                error_log, webhook_failures, provider_rates, email_outbox
    analytics   optional PostHog events, sent after commit
    demo/       demo data: drawing primitives, scenes/, the catalogue, prompts measured from the
                drawn images with vision's functions, the seed, the landing's live demo
    worker/     what the huey worker runs: tasks (the queue's entry points) and maintenance

Everything may use core; domains use each other's public functions. The import contracts in
pyproject.toml (checked by `lint-imports` in `make test`) hold the rest: nothing here imports
reflex, app.state, app.pages, app.components or app.api; only demo/ imports demo data; the
image engine imports no database or storage; and no two modules import each other in a cycle.
"""
