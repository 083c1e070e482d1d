"""The adapter conformance kit as a pytest plugin (entry point ``marri_contract_kit``)."""

from __future__ import annotations
