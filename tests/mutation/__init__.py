"""The project's own mutation suite: every recorded page mutated by families of layout-only and
meaning-changing edits, each variant's answer classified against what it must be. See
docs/mutation-suite.md."""
