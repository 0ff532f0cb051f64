"""Dispatch: immediate SDK calls and the provider Batch API lifecycle."""
