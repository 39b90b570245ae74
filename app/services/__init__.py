"""Plain-Python services: the business logic of JSONCraft. Never imports reflex."""
