"""Intake: validate → dead-letter, dedupe, choose the path, publish to ``llm.admitted``."""
