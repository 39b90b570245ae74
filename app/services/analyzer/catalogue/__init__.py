"""Provider model catalogues: every model OpenRouter (or the OpenAI-compatible endpoint) lists.

entries   parse a `GET /models` answer, defensively          (no I/O)
ids       how people write model ids; closest matches          (no I/O)
fetch     the bounded HTTP request
store     the cached catalogue table: replace, find, search, offer
lookup    the registry source that turns a listed id into a callable Model
refresh   fetch + parse + store, for the maintenance job and the admin page

No re-exports here: `providers.registry` imports `ids`, and `lookup` imports providers.
"""
