"""Sandbox carriers: local imitation carrier portals serving a deterministic generated dataset.

- `sandbox.dataset.generate_dataset(seed, as_of)`: members, plans, groups, provider, accounts.
- `sandbox.ground_truth.eligibility(dataset, carrier, query)`: the normalized answer a portal shows.
- `sandbox.ground_truth.sample_members(dataset, carrier, n)`: a deterministic mix of lookups.
- `sandbox.ground_truth.authorizations(...)` / `claims(...)`: authorization lists and claim searches
  (pass a portal's `PortalState` instead of the dataset to get the truth after run-time changes).
- `sandbox.data_changes`: run-time changes (`POST /_sandbox/data`) and `replay` of a change log.
- `sandbox.server.start_sandbox(...)`: run the portals on loopback (tests, demo, benchmarks).
- `sandbox.carriers.profiles()`: the sandbox carriers, discovered from their folders `sandbox/<slug>/`
  (each exports `PROFILE` and `create_app(dataset, state)`, its portal as an ASGI app).

See sandbox/README.md for the dataset shape, routes, fault controls and the v2 layout.
"""

from sandbox.dataset import DEFAULT_AS_OF, DEFAULT_SEED, Dataset, generate_dataset
from sandbox.ground_truth import MemberSample, authorizations, claims, eligibility, sample_members

__all__ = ["DEFAULT_AS_OF", "DEFAULT_SEED", "Dataset", "MemberSample", "authorizations", "claims", "eligibility",
           "generate_dataset", "sample_members"]
