"""API routes of this app, registered by ``crm.api_urls``."""

routes: list[tuple[str, type, str]] = []
