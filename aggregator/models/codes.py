"""X12 code sets the normalized records use (see the design's STANDARDS.md).

Each enum's *value* is the X12 code, so a record serialized to JSON carries codes, not prose; `.label`
gives the 005010 name for display. Only codes this product emits are listed: an adapter map that meets
carrier vocabulary outside them raises instead of guessing.
"""

from __future__ import annotations

from enum import Enum
from typing import Self


class _Coded(str, Enum):
    """A str enum whose value is the X12 code and which carries a display label."""

    label: str

    # `label` has a default only for the type checker: `ServiceType("30")` looks a member up by its code (the
    # enum machinery, not this method); members are always defined with both.
    def __new__(cls, code: str, label: str = "") -> Self:
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


class AuthStatus(_Coded):
    """HCR01 Action Code (278 response): the payer's decision on a prior authorization."""

    CERTIFIED = ("A1", "Certified in Total")
    PARTIAL = ("A2", "Certified - Partial")
    NOT_CERTIFIED = ("A3", "Not Certified")
    PENDED = ("A4", "Pended")
    MODIFIED = ("A6", "Modified")
    CANCELLED = ("C", "Cancelled")
    CONTACT_PAYER = ("CT", "Contact Payer")


class RequestCategory(_Coded):
    """UM01 Request Category Code."""

    ADMISSION_REVIEW = ("AR", "Admission Review")
    HEALTH_SERVICES_REVIEW = ("HS", "Health Services Review")
    SPECIALTY_CARE_REVIEW = ("SC", "Specialty Care Review")


class AuthDecisionReason(_Coded):
    """HCR03 (code source 886): why an authorization was decided as it was (the common ones)."""

    NOT_MEDICALLY_NECESSARY = ("0F", "Not Medically Necessary")
    CERTIFICATION_NOT_REQUIRED = ("0H", "Certification Not Required for this Service")
    EXCEEDS_PLAN_MAXIMUMS = ("0L", "Exceeds Plan Maximums")
    NON_COVERED_SERVICE = ("0M", "Non-covered Service")
    INFORMATION_NOT_RECEIVED = ("0P", "Requested Information Not Received")
    REQUIRES_MEDICAL_REVIEW = ("0V", "Requires Medical Review")


class UnitQualifier(_Coded):
    """HSD01 Quantity Qualifier for approved quantities."""

    DAYS = ("DY", "Days")
    UNITS = ("FL", "Units")
    VISITS = ("VS", "Visits")


class ClaimStatusCategory(_Coded):
    """STC01-1 Claim Status Category Code (code source 507)."""

    FORWARDED = ("A0", "Acknowledgement/Forwarded")
    RECEIVED = ("A1", "Acknowledgement/Receipt")
    ACCEPTED = ("A2", "Acknowledgement/Acceptance into adjudication system")
    RETURNED_UNPROCESSABLE = ("A3", "Acknowledgement/Returned as unprocessable claim")
    NOT_FOUND = ("A4", "Acknowledgement/Not Found")
    REJECTED_MISSING_INFO = ("A6", "Acknowledgement/Rejected for Missing Information")
    REJECTED_INVALID_INFO = ("A7", "Acknowledgement/Rejected for Invalid Information")
    PENDING = ("P0", "Pending: Adjudication/Details")
    PENDING_IN_PROCESS = ("P1", "Pending/In Process")
    PENDING_PAYER_REVIEW = ("P2", "Pending/Payer Review")
    PENDING_PROVIDER_INFO = ("P3", "Pending/Provider Requested Information")
    PENDING_PATIENT_INFO = ("P4", "Pending/Patient Requested Information")
    FINALIZED = ("F0", "Finalized")
    FINALIZED_PAYMENT = ("F1", "Finalized/Payment")
    FINALIZED_DENIAL = ("F2", "Finalized/Denial")
    FINALIZED_REVISED = ("F3", "Finalized/Revised")
    FINALIZED_NO_PAYMENT = ("F4", "Finalized/Adjudication Complete - No payment forthcoming")
    REQUEST_GENERAL = ("R0", "Requests for additional Information/General Requests")
    REQUEST_ENTITY = ("R1", "Requests for additional Information/Entity Requests")
    REQUEST_CLAIM_LINE = ("R3", "Requests for additional Information/Claim/Line")
    REQUEST_DOCUMENTATION = ("R4", "Requests for additional Information/Documentation")
    ERROR_REQUEST_DATA = ("E0", "Response not possible - error on submitted request data")
    ERROR_SYSTEM_STATUS = ("E1", "Response not possible - System Status")


class AdjustmentGroup(_Coded):
    """CAS01 Claim Adjustment Group Code (5010)."""

    CONTRACTUAL = ("CO", "Contractual Obligations")
    OTHER = ("OA", "Other Adjustments")
    PAYER_INITIATED = ("PI", "Payor Initiated Reductions")
    PATIENT_RESPONSIBILITY = ("PR", "Patient Responsibility")


class AdjustmentReason(_Coded):
    """CARC: Claim Adjustment Reason Codes (the common ones, x12.org list of 11/1/2025)."""

    DEDUCTIBLE = ("1", "Deductible Amount")
    COINSURANCE = ("2", "Coinsurance Amount")
    COPAY = ("3", "Co-payment Amount")
    MODIFIER_INCONSISTENT = ("4", "The procedure code is inconsistent with the modifier used")
    MISSING_INFORMATION = ("16", "Claim/service lacks information or has submission/billing error(s)")
    DUPLICATE = ("18", "Exact duplicate claim/service")
    COORDINATION_OF_BENEFITS = ("22", "This care may be covered by another payer per coordination of benefits")
    PRIOR_PAYER_IMPACT = ("23", "Impact of prior payer(s) adjudication")
    BEFORE_COVERAGE = ("26", "Expenses incurred prior to coverage")
    AFTER_COVERAGE = ("27", "Expenses incurred after coverage terminated")
    FILING_LIMIT = ("29", "The time limit for filing has expired")
    NOT_OUR_INSURED = ("31", "Patient cannot be identified as our insured")
    EXCEEDS_FEE_SCHEDULE = ("45", "Charge exceeds fee schedule/maximum allowable or contracted fee arrangement")
    NOT_MEDICALLY_NECESSARY = ("50", "Non-covered: not deemed a 'medical necessity' by the payer")
    NON_COVERED_CHARGE = ("96", "Non-covered charge(s)")
    INCLUDED_IN_OTHER_SERVICE = ("97", "Benefit included in the payment/allowance for another service already adjudicated")
    NOT_COVERED_BY_PAYER = ("109", "Claim/service not covered by this payer/contractor")
    BENEFIT_MAXIMUM_REACHED = ("119", "Benefit maximum for this time period or occurrence has been reached")
    FREQUENCY_NOT_SUPPORTED = ("151", "Payer deems the information submitted does not support this many/frequency of services")
    AUTHORIZATION_ABSENT = ("197", "Precertification/authorization/notification/pre-treatment absent")
    AUTHORIZATION_EXCEEDED = ("198", "Precertification/notification/authorization/pre-treatment exceeded")
    NOT_COVERED_BY_PLAN = ("204", "Service/equipment/drug is not covered under the patient's current benefit plan")
    OUT_OF_NETWORK = ("242", "Services not provided by network/primary care providers")
    ATTACHMENT_REQUIRED = ("252", "An attachment/other documentation is required to adjudicate this claim/service")
    SEQUESTRATION = ("253", "Sequestration - reduction in federal payment")
    AUTHORIZATION_NOT_APPLICABLE = ("284", "Precertification/authorization number may be valid but does not apply to the billed services")
    DENIED = ("A1", "Claim/Service denied")
    PROVIDER_NOT_CERTIFIED = ("B7", "Provider was not certified/eligible to be paid for this procedure/service on this date of service")
