"""One job: credentials -> session -> adapter -> records -> flow -> store.

The runner owns the login discipline: one session per portal account at a time (a lock per account),
a saved session tried before any login, at most one login per expired session, and an account frozen
in the vault the moment a portal rejects its login, so no second attempt is ever made without a person.
A question the carrier's manifest does not declare is never asked: `NotAvailableAtCarrier`, no session.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict, TypeVar, Unpack

from aggregator import evidence_mask
from aggregator.browser import BrowserPool, PortalSession
from aggregator.errors import (
    AccountFrozen,
    ActionRequired,
    AggregatorError,
    CredentialsMissing,
    CredentialsRejected,
    DailyLimitReached,
    Outcome,
    ParseError,
    PortalMaintenance,
    PortalUnavailable,
    RateLimited,
    SessionExpired,
    SignInNeeded,
    UnexpectedPage,
    VaultError,
)
from aggregator.evidence import EvidenceRecorder
from aggregator.evidence_files import evidence_files
from aggregator.flows.answers import validate_authorizations, validate_claims
from aggregator.flows.changes import Change
from aggregator.flows.compare import changes_between
from aggregator.flows.eligibility import validate_answer
from aggregator.human_steps import SIGN_IN, HumanStep, Person
from aggregator.logging import get_logger, register_secret
from aggregator.metrics import RuntimeMetrics, process_metrics
from aggregator.models import AuthorizationQuery, ClaimQuery, EligibilityQuery, MemberNotFound
from aggregator.models.answers import Answer, Query, subject_of
from aggregator.planning import SearchBudget, routes_for
from aggregator.scrapers.framework import Capability, CarrierAdapter, Credentials, Manifest
from aggregator.scrapers.framework.adapter import PasswordChange
from aggregator.scrapers.framework.pacing import SEARCH_PAUSE
from aggregator.scrapers.registry import adapter_for
from aggregator.scrapers.routing import Route
from aggregator.settings import Settings
from aggregator.store import Repository, budgets
from aggregator.store.tables import EvidenceRow
from vault import PortalAccount, TotpCodes, Vault
from vault.configured import open_vault

log = get_logger(__name__)

Q = TypeVar("Q", bound=Query)  # one of the three queries
A = TypeVar("A", bound=Answer)  # the answers that query may get
T = TypeVar("T")
Step = Callable[[CarrierAdapter], Awaitable[A]]  # one adapter capability call
Validate = Callable[[Q, A], A]  # the flow's check that the answer answers the query
PASSWORD_EXPIRED, PASSWORD_CHANGE_FAILED = HumanStep.PASSWORD_EXPIRED.value, HumanStep.PASSWORD_CHANGE_FAILED.value
AfterSignIn = Callable[[PortalAccount], Awaitable[int]]  # re-runs what waited for the account; -> how many


class RunnerOptions(TypedDict, total=False):
    """What `Runner.open` passes on to the runner, besides what it opens itself."""

    base_urls: dict[str, str] | None
    transient_retries: int
    clock: Callable[[], datetime]
    respect_maintenance_windows: bool | None


@dataclass
class LookupResult:
    lookup_id: str
    carrier: str
    outcome: Outcome
    reason: str | None = None
    reason_code: str | None = None
    answer: Answer | None = None
    evidence: list[EvidenceRow] = field(default_factory=list)
    account_label: str | None = None
    changes: tuple[Change, ...] = ()  # what differs from the previous answer on the same subject
    portal: str | None = None  # the portal that answered (`carrier` is the payer)
    retry_after_seconds: float | None = None  # rate limited: how long the portal asked us to wait


@dataclass
class SignInOutcome:
    """An attended sign-in (`Runner.sign_in`): whether it worked, why not, and how many blocked checks ran again."""

    ok: bool
    reason: str | None = None
    reason_code: str | None = None
    rerun: int = 0


@dataclass
class _AccountSlot:
    """The one live session an account may have, and the lock that keeps it to one."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    session: PortalSession | None = None
    logins: int = 0


class Runner:
    def __init__(
        self,
        *,
        settings: Settings,
        repository: Repository,
        vault: Vault,
        pool: BrowserPool,
        base_urls: dict[str, str] | None = None,
        transient_retries: int = 2,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        respect_maintenance_windows: bool | None = None,
    ) -> None:
        self.clock = clock
        # Off only for the sandbox, which imitates maintenance with its fault switch, not with hours.
        self.respect_maintenance_windows = (settings.respect_maintenance_windows if respect_maintenance_windows is None
                                            else respect_maintenance_windows)
        self.settings = settings
        self.repository = repository
        self.vault = vault
        self.pool = pool
        self.recorder = EvidenceRecorder(evidence_files(settings), repository)
        self.base_urls = {**settings.carrier_urls, **(base_urls or {})}
        self.transient_retries = transient_retries
        # A database vault shares the codes already used with every worker (vault/database.py).
        self.totp = TotpCodes(used_steps=vault.totp_memory())
        self._slots: dict[str, _AccountSlot] = {}
        # (portal, account label) -> `time.monotonic()` until which the portal asked that account to wait.
        self._held_until: dict[tuple[str, str], float] = {}
        self.budget = SearchBudget(settings, repository, clock)  # daily search caps (aggregator/planning.py)
        # Logins, portal latency and retries, which no database row records (aggregator/metrics/runtime.py).
        self.metrics: RuntimeMetrics = process_metrics()
        # Run after a person signed an account in that was waiting for one (the blocked batch items again).
        self.after_sign_in: list[AfterSignIn] = []
        self._unblocked: set[str] = set()  # accounts a login just unblocked, whose hooks have not run yet
        self._background: set[asyncio.Task[None]] = set()

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings, **options: Unpack[RunnerOptions]) -> AsyncIterator[Runner]:
        settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
        repository = Repository.open(settings.resolved_database_url)
        vault = open_vault(settings)  # the file, or PostgreSQL when AGGREGATOR_VAULT_URL is set
        try:
            async with BrowserPool(settings) as pool:
                runner = cls(settings=settings, repository=repository, vault=vault, pool=pool, **options)
                try:
                    yield runner
                finally:
                    await runner.close()
        finally:
            vault.close()

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        for slot in self._slots.values():
            if slot.session is not None:
                await slot.session.close()
                slot.session = None

    async def forget_session(self, account_id: str) -> None:
        """Close the account's live session and drop its saved one: its next lookup logs in afresh."""
        slot = self._slots.get(account_id)
        if slot is not None:
            async with slot.lock:
                if slot.session is not None:
                    await slot.session.close()
                    slot.session = None
        self.vault.clear_session(account_id)

    def logins_performed(self, account_id: str) -> int:
        slot = self._slots.get(account_id)
        return slot.logins if slot else 0

    # --- the jobs -----------------------------------------------------------------------------------

    # `carrier` is the payer asked about; routing (aggregator/scrapers/routing.py) picks the portal that
    # answers for it, unless `portal` forces one.
    async def eligibility(
        self, carrier: str, query: EligibilityQuery, *, source: str = "cli", account_label: str | None = None,
        portal: str | None = None, person: Person | None = None,
    ) -> LookupResult:
        return await self._lookup(Capability.ELIGIBILITY, carrier, query, lambda a: a.check_eligibility(query),
                                  validate_answer, source=source, account_label=account_label, portal=portal,
                                  person=person)

    async def authorizations(
        self, carrier: str, query: AuthorizationQuery, *, source: str = "cli", account_label: str | None = None,
        portal: str | None = None, person: Person | None = None,
    ) -> LookupResult:
        return await self._lookup(Capability.AUTHORIZATION, carrier, query, lambda a: a.check_authorizations(query),
                                  validate_authorizations, source=source, account_label=account_label, portal=portal,
                                  person=person)

    async def claims(
        self, carrier: str, query: ClaimQuery, *, source: str = "cli", account_label: str | None = None,
        portal: str | None = None, person: Person | None = None,
    ) -> LookupResult:
        return await self._lookup(Capability.CLAIM_STATUS, carrier, query, lambda a: a.check_claims(query),
                                  validate_claims, source=source, account_label=account_label, portal=portal,
                                  person=person)

    async def _lookup(self, capability: Capability, carrier: str, query: Q, step: Step[A], validate: Validate[Q, A], *,
                      source: str, account_label: str | None, portal: str | None = None,
                      person: Person | None = None) -> LookupResult:
        # Unknown payer, or a question no portal of it answers: an error before anything is stored.
        routes = routes_for(self.settings, capability, carrier, query, portal)
        slug = routes[0].payer
        for value in (getattr(query, "member_id", None), getattr(query, "last_name", None),
                      getattr(query, "date_of_birth", None)):  # a DOB in a portal URL or page text, too
            if value:
                register_secret(value)
        lookup = self.repository.create_lookup(flow=capability.value, carrier=slug, query=query, source=source)
        result = LookupResult(lookup_id=lookup.id, carrier=slug, outcome=Outcome.FAILED)
        record: tuple[Answer, str] | None = None  # stored with the outcome, in one transaction
        try:
            answer = await self._run(routes, capability, step, lookup.id, account_label, result, person)
            answer = validate(query, answer)
            subject = subject_of(query, answer)
            previous = self.repository.previous_record(carrier=slug, kind=answer.kind, subject=subject,
                                                       before_lookup=lookup.id)
            record = (answer, subject)
            result.answer = answer
            result.changes = changes_between(previous, answer)
            if isinstance(answer, MemberNotFound):
                result.outcome = Outcome.NOT_FOUND
                result.reason = answer.reject_reason.label
                result.reason_code = answer.reject_reason.value
            else:
                result.outcome = Outcome.FOUND
        except AggregatorError as error:
            result.outcome, result.reason, result.reason_code = error.outcome, error.reason, error.code
            if isinstance(error, RateLimited):
                result.retry_after_seconds = error.retry_after_seconds
            log.warning("lookup_not_answered", carrier=slug, flow=capability.value, lookup_id=lookup.id,
                        outcome=error.outcome.value, error=error.code, reason=error.reason)
        except Exception as error:  # a bug must still end the lookup in a definite, stored state
            result.outcome, result.reason, result.reason_code = Outcome.FAILED, f"internal error ({type(error).__name__})", "internal_error"
            log.exception("lookup_crashed", carrier=slug, flow=capability.value, lookup_id=lookup.id)
        changes = json.dumps([c.model_dump(mode="json") for c in result.changes]) if result.changes else None
        try:
            self.repository.finish_lookup(lookup.id, result.outcome, result.reason, result.reason_code,
                                          record=record, changes_json=changes)
        except Exception as error:  # the record could not be stored: the lookup still ends stored, failed
            if record is None:
                raise
            result.outcome, result.reason, result.reason_code = Outcome.FAILED, f"internal error ({type(error).__name__})", "internal_error"
            result.answer, result.changes = None, ()
            log.exception("lookup_crashed", carrier=slug, flow=capability.value, lookup_id=lookup.id)
            self.repository.finish_lookup(lookup.id, result.outcome, result.reason, result.reason_code)
        result.evidence = self.repository.evidence_for_lookup(lookup.id)
        log.info("lookup_finished", carrier=slug, flow=capability.value, lookup_id=lookup.id,
                 outcome=result.outcome.value, evidence=len(result.evidence), changes=len(result.changes))
        return result

    async def _run(
        self, routes: list[Route], capability: Capability, step: Step[A], lookup_id: str,
        account_label: str | None, result: LookupResult, person: Person | None = None,
    ) -> A:
        route, account = self._choose_account(routes, account_label)
        adapter_cls = route.adapter
        manifest = adapter_cls.manifest
        window = manifest.in_maintenance(self.clock()) if self.respect_maintenance_windows else None
        if window is not None:
            raise PortalMaintenance(f"{manifest.display_name} is in its maintenance window until {window.end:%H:%M} {window.timezone}")
        result.account_label = account.label
        result.portal = manifest.slug
        self.repository.set_lookup_account(lookup_id, account.label,
                                           portal=manifest.slug if manifest.slug != route.payer else None)
        counted = self._counted(step, manifest, account)
        attempt = 0
        while True:
            try:
                try:
                    async with self._session(adapter_cls, account, lookup_id, capability.value, route.payer,
                                             person) as adapter:
                        answer = await self._with_one_relogin(adapter, account, lambda: counted(adapter))
                        self._keep_notices(adapter, account)
                        return answer
                except RateLimited as error:
                    if error.retry_after_seconds:
                        self._held_until[(manifest.slug, account.label)] = time.monotonic() + error.retry_after_seconds
                    raise
                finally:
                    self._after_unblocked(account)
            except PortalUnavailable as error:
                if isinstance(error, (PortalMaintenance, DailyLimitReached)) or attempt >= self.transient_retries:
                    raise
                attempt += 1
                delay = min(8.0, 0.5 * 2 ** attempt) * random.uniform(0.8, 1.2)  # exponential backoff, jittered
                log.info("portal_retry", carrier=manifest.slug, attempt=attempt, delay=round(delay, 2))
                self.metrics.count_portal_retry(manifest.slug)
                await asyncio.sleep(delay)

    def _counted(self, step: Step[A], manifest: Manifest, account: PortalAccount) -> Step[A]:
        """`step`, taking one of the account's searches of the day first (every try: the portal may have
        counted a search that then failed). None left: `DailyLimitReached` before the portal is asked."""
        if self.budget.cap(manifest) is None:
            return step

        async def counted(adapter: CarrierAdapter) -> A:
            if not self.budget.reserve(manifest, budgets.AccountRef(account.account_id, manifest.slug, account.label)):
                raise self.budget.spent(manifest)
            return await step(adapter)

        return counted

    def _keep_notices(self, adapter: CarrierAdapter, account: PortalAccount) -> None:
        """What the portal told the account (its password expires soon) goes where people look. A login that
        brought no such notice clears the old one: the password was changed."""
        if not adapter.logged_in_now:  # a portal repeats its banner on every page: what a login saw is enough
            return
        ref = budgets.AccountRef(account.account_id, adapter.manifest.slug, account.label)
        for notice in adapter.notices:
            budgets.record_notice(self.repository, ref, notice.kind, notice.message, notice.due)
        if not adapter.notices:
            budgets.clear_notices(self.repository, account.account_id, ["password_expiring"])

    def _choose_account(self, routes: list[Route], label: str | None) -> tuple[Route, PortalAccount]:
        """The first route (in the payer's order of preference) with an account that may work now.

        A portal the practice has no account for is passed over, and so is one whose accounts have no searches
        left today; a portal whose accounts are all frozen is not: a person must act, and the payer's answers
        do not silently move to another portal meanwhile."""
        problems: list[AggregatorError] = []
        for route in routes:
            accounts = [a for a in self.vault.accounts(route.portal) if route.allows(a.label)]
            if label is not None:
                accounts = [a for a in accounts if a.label == label]
            manifest = route.adapter.manifest
            if not accounts:
                problems.append(CredentialsMissing(
                    f"no vault account '{route.portal}/{label}'" if label is not None else
                    f"no portal account for {manifest.display_name} in the vault: add one with `aggregator vault add`"))
                continue
            active = [a for a in accounts if not a.is_frozen]
            if not active:
                raise frozen_error(accounts[0])
            left = self.budget.left(manifest, [a.account_id for a in active])
            usable = [a for a in active if left[a.account_id] is None or (left[a.account_id] or 0) > 0]
            if not usable:
                problems.append(self.budget.spent(manifest))
                continue
            # Spread on-demand work: an account the portal has not asked to wait, the one whose session is idle
            # and warm first, then the least used.
            return route, min(usable, key=lambda a: (self.held_for(a.carrier, a.label) > 0, self._slot(a).lock.locked(),
                                                     self._slot(a).session is None, self._slot(a).logins))
        # Nobody can: the most telling reason (a spent budget says when to come back).
        raise next((p for p in problems if isinstance(p, DailyLimitReached)), problems[0])

    def held_for(self, portal: str, label: str) -> float:
        """Seconds before the portal may be asked anything for this account again: it answered "too many
        requests" and said how long to wait (its Retry-After). 0 when it may be asked now."""
        return max(0.0, self._held_until.get((portal, label), 0.0) - time.monotonic())

    def _slot(self, account: PortalAccount) -> _AccountSlot:
        return self._slots.setdefault(account.account_id, _AccountSlot())

    @asynccontextmanager
    async def _session(self, adapter_cls: type[CarrierAdapter], account: PortalAccount, lookup_id: str | None,
                       flow: str, payer: str | None = None, person: Person | None = None,
                       password_change: PasswordChange | None = None) -> AsyncIterator[CarrierAdapter]:
        manifest = adapter_cls.manifest
        slot = self._slot(account)
        async with slot.lock:
            held = self.held_for(manifest.slug, account.label)
            if held > 0:  # the portal asked this account to wait: it is not asked again before then
                raise RateLimited(f"{manifest.display_name} asked account '{account.label}' to wait; "
                                  f"{held:.0f} s left before it is asked again", retry_after_seconds=held)
            current = self.vault.get(account.account_id)  # re-read: a queued job may find it frozen now
            # Frozen for an expired password: a password change a person asked for is what unfreezes it.
            if current.is_frozen and not (password_change is not None and current.frozen_code == PASSWORD_EXPIRED):
                raise frozen_error(current)
            sink = self.recorder.sink_for(lookup_id)
            if slot.session is None:
                # A password change a crash interrupted is settled by a login before anything else.
                saved = None if current.password_change_stage else self.vault.load_session(current.account_id)
                slot.session = await PortalSession.open(
                    self.pool, base_url=self.base_urls.get(manifest.slug, manifest.base_url), carrier=manifest.slug,
                    account_label=current.label, evidence_sink=sink,
                    storage_state=self._with_device(manifest, current.account_id, saved),
                    min_request_interval=manifest.limits.min_seconds_between_requests,
                )
                slot.session.logged_in = saved is not None
                pause = self.settings.search_pause_seconds.get(manifest.slug)
                if pause is not None:  # the deployment's pace for this portal (framework/pacing.py reads it)
                    setattr(slot.session, SEARCH_PAUSE, pause)
                slot.session.timer = self.metrics.observe_portal_request
                slot.session.mask_rules = evidence_mask.rules_of(manifest)  # what staff must not see in evidence
            session = slot.session
            session.evidence_sink = sink
            session.flow = flow
            session.api_retry_after = None  # a wait asked during an earlier lookup is not this one's
            adapter = adapter_cls(session, self._credentials(current, person, password_change), payer=payer)
            try:
                if not session.logged_in:
                    await self._login(adapter, current, slot)
                yield adapter
            except RateLimited as error:
                error.asked_to_wait(session.api_retry_after)
                raise

    async def _with_one_relogin(self, adapter: CarrierAdapter, account: PortalAccount,
                                step: Callable[[], Awaitable[T]]) -> T:
        try:
            return await step()
        except SessionExpired:
            # The saved or warm session ran out: exactly one fresh login, then the step once more.
            log.info("session_expired", carrier=adapter.manifest.slug)
            await self._login(adapter, self.vault.get(account.account_id), self._slot(account))
            return await step()

    async def _login(self, adapter: CarrierAdapter, account: PortalAccount, slot: _AccountSlot) -> None:
        attended = adapter.credentials.person is not None
        waiting = self.needs_sign_in(account.account_id)
        if waiting is not None and not attended:
            # The portal asked for a person at the last sign-in: nobody is here, so no login (and no new
            # text message) until somebody signs in.
            raise SignInNeeded(f"{adapter.manifest.display_name} waits for a person to sign in to account "
                               f"'{account.label}' (a {waiting.value.replace('_', ' ')})", step=waiting)
        slot.logins += 1
        session = adapter.session
        session.logged_in = False
        try:
            await self._login_with_the_right_password(adapter, account)
        except SignInNeeded as error:
            # Not a refusal: the account stays usable for a person. Unattended, it waits for a sign-in.
            self.metrics.count_login(account.carrier, account.label, "needs_person")
            await session.close()
            slot.session = None
            self.vault.clear_session(account.account_id)
            if not attended:
                budgets.record_notice(self.repository, self._ref(adapter, account), error.step.value,
                                      error.reason, None)
            log.warning("sign_in_needs_person", carrier=account.carrier, account=account.label, step=error.code)
            raise
        except (CredentialsRejected, ActionRequired, UnexpectedPage, ParseError) as error:
            await session.close()
            slot.session = None
            if error.code == PASSWORD_CHANGE_FAILED:
                # The portal refused the new password at its forced change: nothing changed, the password
                # change reports it (its person decides); the expired password still freezes the next login.
                self.metrics.count_login(account.carrier, account.label, "needs_person")
                self.vault.clear_session(account.account_id)
                raise
            # Never a second attempt without a person: freeze first, then report. A login that lands
            # somewhere the adapter does not know may be a rejection it cannot read, so it freezes too.
            self.vault.freeze(account.account_id, error.reason, code=error.code)
            self.metrics.count_login(account.carrier, account.label, "refused")
            log.warning("account_frozen", carrier=account.carrier, account=account.label, reason=error.reason)
            raise
        except BaseException as error:
            if isinstance(error, Exception):  # a cancelled login is not the portal's failure
                self.metrics.count_login(account.carrier, account.label, "failed")
            # A login cut short (server error, timeout) leaves the portal half-way (e.g. waiting for the
            # second factor): the next attempt starts from a fresh context rather than from that page.
            await session.close()
            slot.session = None
            self.vault.clear_session(account.account_id)
            raise
        session.logged_in = True
        adapter.logged_in_now = True
        self.metrics.count_login(account.carrier, account.label, "succeeded")
        for value in await session.cookie_values():
            register_secret(value)
        expires = datetime.now(UTC) + timedelta(minutes=adapter.manifest.session_lifetime_minutes)
        try:
            self.vault.save_session(account.account_id, await session.storage_state(), expires)
        except AccountFrozen:
            if adapter.credentials.password_change is None:
                raise
            # Frozen for its expired password, which this login just changed: the change's confirmation
            # unfreezes it; until then the live session serves the change and is not saved.
        await self._keep_device(adapter, account)
        if waiting is not None:
            budgets.clear_notices(self.repository, account.account_id, [step.value for step in SIGN_IN])
            self._unblocked.add(account.account_id)
        log.info("logged_in", carrier=account.carrier, account=account.label)

    async def _login_with_the_right_password(self, adapter: CarrierAdapter, account: PortalAccount) -> None:
        """Log in, first finishing a password change a crash interrupted (aggregator/password_change.py).

        "pending": the new password never reached the portal, so it is dropped. "submitted": the portal may or
        may not have taken it; the new one is tried first (the likelier), then the current one. Whichever
        works is kept, so at most one login in a row is refused, and no password is ever lost."""
        if adapter.credentials.password_change is not None:
            # This login is the change's own (aggregator/password_change.py): the current password, and the
            # change under way is not an interrupted one.
            await adapter.login()
            return
        current = self.vault.get(account.account_id)
        if current.password_change_stage == "pending":
            self.vault.abandon_password_change(account.account_id)
            log.info("password_change_abandoned", carrier=account.carrier, account=account.label)
        if current.password_change_stage != "submitted" or current.pending_password is None:
            await adapter.login()
            return
        register_secret(current.pending_password.get_secret_value())
        tried_first = adapter.credentials
        adapter.credentials = dataclasses.replace(tried_first, password=current.pending_password)
        try:
            await adapter.login()
        except CredentialsRejected:
            log.info("password_change_not_taken", carrier=account.carrier, account=account.label)
            adapter.credentials = tried_first
            await adapter.login()
            self.vault.abandon_password_change(account.account_id)
            return
        self.vault.confirm_password_change(account.account_id)
        log.info("password_change_confirmed", carrier=account.carrier, account=account.label)

    async def _keep_device(self, adapter: CarrierAdapter, account: PortalAccount) -> None:
        """The portal's "remember this device" cookie goes to the vault apart from the session (it outlives it),
        written only when it changed; the vault reads it back before it counts as kept."""
        names = adapter.manifest.remembered_device_cookies
        if not names:
            return
        cookies = await adapter.session.cookies_named(names)
        lasting = [c for c in cookies if float(c.get("expires") or -1) > 0]
        if not lasting or self.vault.load_device(account.account_id) == lasting:
            return
        expires = datetime.fromtimestamp(min(float(c["expires"]) for c in lasting), UTC)
        try:
            self.vault.save_device(account.account_id, lasting, expires)
        except VaultError as error:  # the sign-in stands; the next unattended one may be asked for a code
            log.warning("device_not_kept", carrier=account.carrier, account=account.label, error=str(error))
            return
        log.info("device_remembered", carrier=account.carrier, account=account.label, until=expires.date().isoformat())

    def _with_device(self, manifest: Manifest, account_id: str, saved: dict[str, Any] | None) -> dict[str, Any] | None:
        """The saved session, plus the remembered device's cookies it lacks: a new session starts from a device
        the portal knows, so an unattended sign-in is not asked for a code."""
        if not manifest.remembered_device_cookies:
            return saved
        device = self.vault.load_device(account_id)
        if not device:
            return saved
        state = dict(saved) if saved else {"cookies": [], "origins": []}
        have = {(c.get("name"), c.get("domain"), c.get("path")) for c in state.get("cookies", [])}
        state["cookies"] = [*state.get("cookies", []),
                            *(c for c in device if (c.get("name"), c.get("domain"), c.get("path")) not in have)]
        return state

    @staticmethod
    def _ref(adapter: CarrierAdapter, account: PortalAccount) -> budgets.AccountRef:
        return budgets.AccountRef(account.account_id, adapter.manifest.slug, account.label)

    # --- a person signs in --------------------------------------------------------------------------

    def needs_sign_in(self, account_id: str) -> HumanStep | None:
        """What the account's last unattended sign-in needed a person for, until a sign-in succeeds."""
        for notice in budgets.account_notices(self.repository, account_id):
            if notice.kind in {step.value for step in SIGN_IN}:
                return HumanStep(notice.kind)
        return None

    @asynccontextmanager
    async def signed_in(self, portal: str, label: str, *, person: Person | None = None, flow: str = "sign_in",
                        fresh: bool = False, password_change: PasswordChange | None = None,
                        ) -> AsyncIterator[CarrierAdapter]:
        """The account's adapter, logged in, holding the account's one-session lock (a password change, an
        attended sign-in). `fresh`: a new login even when a session is live or saved (the device stays).
        The pages' evidence is recorded under no lookup, with `flow` naming what it was for."""
        account = self.vault.find(portal, label)
        if account is None:
            raise CredentialsMissing(f"no vault account '{portal}/{label}'")
        if fresh:
            await self.forget_session(account.account_id)
        adapter_cls = adapter_for(portal)
        try:
            async with self._session(adapter_cls, account, None, flow, None, person, password_change) as adapter:
                yield adapter
                self._keep_notices(adapter, account)
        finally:
            self._after_unblocked(account, run_now=False)

    async def sign_in(self, portal: str, label: str, person: Person) -> SignInOutcome:
        """An attended sign-in (the web app's "Sign in now", `aggregator signin`): a fresh login with the person
        at the screen; then what waited for the account runs again (`after_sign_in`)."""
        try:
            async with self.signed_in(portal, label, person=person, fresh=True):
                pass
        except AggregatorError as error:
            person.done(error.reason)
            return SignInOutcome(False, error.reason, error.code)
        account = self.vault.find(portal, label)
        assert account is not None
        self._unblocked.discard(account.account_id)
        rerun = await self._rerun_after_sign_in(account)
        person.done(None)
        return SignInOutcome(True, rerun=rerun)

    def _after_unblocked(self, account: PortalAccount, *, run_now: bool = True) -> None:
        """A login just cleared the account's wait for a person: its blocked work runs again, in the
        background (this lookup does not wait for it), once the account's lock is free."""
        if account.account_id not in self._unblocked or not run_now:
            return
        self._unblocked.discard(account.account_id)
        task = asyncio.get_running_loop().create_task(self._rerun_in_background(account))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _rerun_in_background(self, account: PortalAccount) -> None:
        try:
            await self._rerun_after_sign_in(account)
        except Exception:  # the items stay as they were; the retry pass takes them
            log.exception("rerun_after_sign_in_failed", carrier=account.carrier, account=account.label)

    async def _rerun_after_sign_in(self, account: PortalAccount) -> int:
        total = 0
        for hook in self.after_sign_in:
            total += await hook(account)
        return total

    def _credentials(self, account: PortalAccount, person: Person | None = None,
                     password_change: PasswordChange | None = None) -> Credentials:
        for secret in (account.username, account.password, account.totp_secret, *account.security_answers.values()):
            if secret is not None:
                register_secret(secret.get_secret_value())
        totp_secret = account.totp_secret

        async def next_totp() -> str:
            if totp_secret is None:
                raise CredentialsMissing(f"{account.display_name} has no TOTP seed in the vault")
            code = await self.totp.next_code(account.account_id, totp_secret)
            register_secret(code)
            return code

        return Credentials(username=account.username, password=account.password, totp_secret=totp_secret,
                           security_answers=dict(account.security_answers), next_totp=next_totp,
                           tax_id=account.tax_id, npi=account.npi, person=person, password_change=password_change)


def frozen_error(account: PortalAccount) -> AccountFrozen:
    return AccountFrozen(f"portal account {account.display_name} is frozen ({account.frozen_reason}); "
                         "update its credentials with `aggregator vault update` to resume")
