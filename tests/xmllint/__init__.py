"""The XML lint developer check (``make lint-xml``): see ``__main__``."""
