"""Answers in the formats the practice's other systems speak: FHIR R4 resources and 271-shaped JSON (docs/exports.md)."""
