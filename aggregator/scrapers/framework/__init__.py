"""What every adapter is built from: manifest, adapter base and page contract, maps, HTML reading."""

from aggregator.scrapers.framework.adapter import AccountNotice, CarrierAdapter, Credentials, PortalPage, classify
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
    PayerEntry,
)
from aggregator.scrapers.framework.maps import VocabularyMap
from aggregator.scrapers.framework.reading import (
    CenturyWindow,
    Labels,
    account_number,
    build,
    columns_named,
    member_id_of,
    member_not_found,
    npi_of,
    parse_quantity,
    parse_short_date,
    portal_number,
)
from aggregator.scrapers.framework.report import ReportRow, ReportTable, read_report

__all__ = [
    "AccountNotice", "AdapterStatus", "Capability", "CarrierAdapter", "CredentialField", "Credentials", "Document",
    "Limits", "MaintenanceWindow", "Manifest", "PayerEntry", "PortalPage", "TableRow", "VocabularyMap", "classify",
    "clean", "header_key", "parse_date", "parse_money", "parse_percent", "read_table", "text_of",
    "CenturyWindow", "Labels", "columns_named", "ReportRow", "ReportTable", "build", "member_id_of", "parse_quantity",
    "parse_short_date", "read_report", "account_number", "member_not_found", "npi_of", "portal_number",
]
