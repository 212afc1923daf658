"""Answer and prompt templates: package data, read with importlib.resources by retrieval/prompts.py."""
