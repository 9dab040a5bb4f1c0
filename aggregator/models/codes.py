"""X12 code sets the normalized records use (see the design's STANDARDS.md).

Each enum's *value* is the X12 code, so a record serialized to JSON carries codes, not prose; `.label`
gives the 005010 name for display. Only codes this product emits are listed: an adapter map that meets
carrier vocabulary outside them raises instead of guessing.
"""

from __future__ import annotations

from enum import Enum


class _Coded(str, Enum):
    """A str enum whose value is the X12 code and which carries a display label."""

    label: str

    def __new__(cls, code: str, label: str) -> _Coded:
        obj = str.__new__(cls, code)
        obj._value_ = code
        obj.label = label
        return obj

    def __str__(self) -> str:  # f-strings and logs show the code
        return self.value


class CoverageStatus(_Coded):
    """EB01 for the plan-level (EB03=30) segment: is coverage in force on the date of service."""

    ACTIVE = ("1", "Active Coverage")
    INACTIVE = ("6", "Inactive")


class BenefitKind(_Coded):
    """EB01 codes for benefit lines."""

    COINSURANCE = ("A", "Co-Insurance")
    COPAY = ("B", "Co-Payment")
    DEDUCTIBLE = ("C", "Deductible")
    LIMITATION = ("F", "Limitations")
    OUT_OF_POCKET = ("G", "Out of Pocket (Stop Loss)")
    NON_COVERED = ("I", "Non-Covered")


class CoverageLevel(_Coded):
    """EB02 Benefit Coverage Level Code (the 9 valid in 5010)."""

    CHILDREN_ONLY = ("CHD", "Children Only")
    DEPENDENTS_ONLY = ("DEP", "Dependents Only")
    EMPLOYEE_AND_CHILDREN = ("ECH", "Employee and Children")
    EMPLOYEE_ONLY = ("EMP", "Employee Only")
    EMPLOYEE_AND_SPOUSE = ("ESP", "Employee and Spouse")
    FAMILY = ("FAM", "Family")
    INDIVIDUAL = ("IND", "Individual")
    SPOUSE_AND_CHILDREN = ("SPC", "Spouse and Children")
    SPOUSE_ONLY = ("SPO", "Spouse Only")


class ServiceType(_Coded):
    """EB03 Service Type Code (005010 names; the common subset)."""

    MEDICAL_CARE = ("1", "Medical Care")
    SURGICAL = ("2", "Surgical")
    CONSULTATION = ("3", "Consultation")
    DIAGNOSTIC_XRAY = ("4", "Diagnostic X-Ray")
    DIAGNOSTIC_LAB = ("5", "Diagnostic Lab")
    DME_PURCHASE = ("12", "Durable Medical Equipment Purchase")
    DME_RENTAL = ("18", "Durable Medical Equipment Rental")
    HEALTH_BENEFIT_PLAN_COVERAGE = ("30", "Health Benefit Plan Coverage")
    CHIROPRACTIC = ("33", "Chiropractic")
    DENTAL_CARE = ("35", "Dental Care")
    HOME_HEALTH_CARE = ("42", "Home Health Care")
    HOSPICE = ("45", "Hospice")
    HOSPITAL = ("47", "Hospital")
    HOSPITAL_INPATIENT = ("48", "Hospital - Inpatient")
    HOSPITAL_OUTPATIENT = ("50", "Hospital - Outpatient")
    HOSPITAL_AMBULATORY_SURGICAL = ("53", "Hospital - Ambulatory Surgical")
    MRI_CAT_SCAN = ("62", "MRI/CAT Scan")
    MATERNITY = ("69", "Maternity")
    DIALYSIS = ("76", "Dialysis")
    ROUTINE_PHYSICAL = ("81", "Routine Physical")
    EMERGENCY_SERVICES = ("86", "Emergency Services")
    PHARMACY = ("88", "Pharmacy")
    PROFESSIONAL_PHYSICIAN = ("96", "Professional (Physician)")
    OFFICE_VISIT = ("98", "Professional (Physician) Visit - Office")
    PSYCHOTHERAPY = ("A6", "Psychotherapy")
    OCCUPATIONAL_THERAPY = ("AD", "Occupational Therapy")
    SPEECH_THERAPY = ("AF", "Speech Therapy")
    SKILLED_NURSING_CARE = ("AG", "Skilled Nursing Care")
    SUBSTANCE_ABUSE = ("AI", "Substance Abuse")
    VISION_OPTOMETRY = ("AL", "Vision (Optometry)")
    MENTAL_HEALTH = ("MH", "Mental Health")
    PHYSICAL_THERAPY = ("PT", "Physical Therapy")
    URGENT_CARE = ("UC", "Urgent Care")


class TimePeriod(_Coded):
    """EB06 Time Period Qualifier. 23/22 = total for the period, 29 = remaining, 24 = met to date."""

    VISIT = ("27", "Visit")
    SERVICE_YEAR = ("22", "Service Year")
    CALENDAR_YEAR = ("23", "Calendar Year")
    YEAR_TO_DATE = ("24", "Year to Date")
    REMAINING = ("29", "Remaining")
    LIFETIME = ("32", "Lifetime")
    LIFETIME_REMAINING = ("33", "Lifetime Remaining")


class QuantityQualifier(_Coded):
    """EB09 Quantity Qualifier (those used by limitation lines)."""

    VISITS = ("VS", "Visits")
    DAYS = ("DY", "Days")
    QUANTITY_USED = ("99", "Quantity Used")


class NetworkIndicator(_Coded):
    """EB12 In Plan Network Indicator."""

    IN_NETWORK = ("Y", "In Plan-Network")
    OUT_OF_NETWORK = ("N", "Out of Plan-Network")
    NOT_APPLICABLE = ("W", "Not Applicable")
    UNKNOWN = ("U", "Unknown")


class AuthIndicator(_Coded):
    """EB11 Authorization or Certification Indicator."""

    REQUIRED = ("Y", "Yes")
    NOT_REQUIRED = ("N", "No")
    UNKNOWN = ("U", "Unknown")


class Relationship(_Coded):
    """INS02 Individual Relationship Code (patient to subscriber)."""

    SELF = ("18", "Self")
    SPOUSE = ("01", "Spouse")
    CHILD = ("19", "Child")
    OTHER = ("G8", "Other Relationship")


class InsuranceType(_Coded):
    """EB04 Insurance Type Code (the plan types the sandbox carriers sell)."""

    COMMERCIAL = ("C1", "Commercial")
    HMO = ("HM", "Health Maintenance Organization")
    PPO = ("PR", "Preferred Provider Organization")
    POS = ("PS", "Point of Service")
    EPO = ("EP", "Exclusive Provider Organization")


class RejectReason(_Coded):
    """AAA03 Reject Reason Code: why a lookup yields no eligibility record."""

    UNABLE_TO_RESPOND = ("42", "Unable to Respond at Current Time")
    INVALID_MEMBER_ID = ("72", "Invalid/Missing Subscriber/Insured ID")
    INVALID_NAME = ("73", "Invalid/Missing Subscriber/Insured Name")
    INVALID_DOB = ("58", "Invalid/Missing Date-of-Birth")
    DOB_MISMATCH = ("71", "Patient Birth Date Does Not Match That for the Patient on the Database")
    NOT_FOUND = ("75", "Subscriber/Insured Not Found")
    INAPPROPRIATE_DATE = ("56", "Inappropriate Date")
    INVALID_SERVICE_DATE = ("57", "Invalid/Missing Date(s) of Service")
    SERVICE_DATE_OUT_OF_RANGE = ("62", "Date of Service Not Within Allowable Inquiry Period")
    SERVICE_DATE_IN_FUTURE = ("63", "Date of Service in Future")
