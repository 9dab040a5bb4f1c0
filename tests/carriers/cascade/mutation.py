"""What the mutation suite's meaning families need to know about Cascade's words (tests/mutation/portal_words.py)."""

from aggregator.scrapers.cascade import maps

NO_VALUE_MARKS = (maps.NONE,)  # "--"
# Cascade's coverage status is its "eligibility" vocabulary (Eligible / Not Eligible).
STATUS_VOCABULARIES = (maps.AUTH_STATUS, maps.CLAIM_STATUS, maps.ELIGIBILITY)
