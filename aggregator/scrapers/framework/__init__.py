"""What every adapter is built from: manifest, adapter base and page contract, maps, HTML reading."""

from aggregator.scrapers.framework.adapter import CarrierAdapter, Credentials, PortalPage, classify
from aggregator.scrapers.framework.html import (
    Document,
    TableRow,
    clean,
    header_key,
    parse_date,
    parse_money,
    parse_percent,
    read_table,
    text_of,
)
from aggregator.scrapers.framework.manifest import (
    AdapterStatus,
    Capability,
    CredentialField,
    Limits,
    MaintenanceWindow,
    Manifest,
)
from aggregator.scrapers.framework.maps import VocabularyMap

__all__ = [
    "AdapterStatus", "Capability", "CarrierAdapter", "CredentialField", "Credentials", "Document",
    "Limits", "MaintenanceWindow", "Manifest", "PortalPage", "TableRow", "VocabularyMap", "classify",
    "clean", "header_key", "parse_date", "parse_money", "parse_percent", "read_table", "text_of",
]
